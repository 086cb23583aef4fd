//! What an operator sees: Prometheus metrics on the admin listener, JSON logs, and each
//! component's stdout and stderr in `.kiln/logs/`.

use kiln_test_guests::{HTTP_FAULTS, HTTP_HELLO};

use crate::util::{app_dir, kiln, metric, path_str, request, Server};

fn app() -> tempfile::TempDir {
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "observed"
[[trigger.http]]
route = "/hello"
component = "hello"
[[trigger.http]]
route = "/..."
component = "faults"
[component.hello]
source = "{HTTP_HELLO}"
[component.faults]
source = "{HTTP_FAULTS}"
"#
    );
    app_dir(&[("spin.toml", &manifest)])
}

#[tokio::test]
async fn metrics_count_requests_failures_and_pool_slots() {
    let dir = app();
    let server = Server::start(&[
        "up",
        "-f",
        path_str(dir.path()),
        "--admin-listen",
        "127.0.0.1:0",
    ]);
    let admin = server.admin_url();
    for _ in 0..3 {
        assert_eq!(server.get("/hello").await.status, 200);
    }
    assert_eq!(server.get("/trap").await.status, 500);
    let metrics = request(&admin, "GET", "/metrics", &[], "").await;
    assert_eq!(metrics.status, 200);
    let text = &metrics.body;
    assert_eq!(
        metric(
            text,
            r#"kiln_http_requests_total{component="hello",status="200"}"#
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        metric(
            text,
            r#"kiln_http_requests_total{component="faults",status="500"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        metric(
            text,
            r#"kiln_failures_total{component="faults",reason="trap"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        metric(
            text,
            r#"kiln_http_request_duration_seconds_count{component="hello"}"#
        ),
        Some(3.0),
        "{text}"
    );
    assert!(
        text.contains("kiln_instances_in_flight{component=\"hello\"}"),
        "{text}"
    );
    assert!(text.contains("kiln_pool_component_instances"), "{text}");
    assert_eq!(request(&admin, "GET", "/other", &[], "").await.status, 404);
}

#[tokio::test]
async fn guest_output_goes_to_log_files_and_logs_can_be_json() {
    let dir = app();
    let server = Server::start_with(
        kiln(),
        &["--log-format", "json", "up", "-f", path_str(dir.path())],
    );
    assert_eq!(server.get("/panic").await.status, 500);
    assert!(
        server.stderr_shows(r#""component_id":"faults""#),
        "{}",
        server.stderr()
    );
    let line = server
        .stderr()
        .lines()
        .find(|l| l.contains(r#""reason":"trap""#))
        .map(str::to_string)
        .expect("a JSON log line for the trap");
    let event: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(event["level"], "ERROR");
    assert_eq!(event["route"], "/...");
    let stderr_log = dir.path().join(".kiln/logs/faults_stderr.txt");
    let logged = std::fs::read_to_string(&stderr_log).unwrap();
    assert!(logged.contains("the guest panicked on purpose"), "{logged}");
    assert!(dir.path().join(".kiln/logs/hello_stdout.txt").is_file());
}
