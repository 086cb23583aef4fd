//! Guests that loop, trap, panic, overflow their stack, exhaust their memory, never finish or
//! never stop their body; clients that send too much or too many: each ends its own request
//! with the right status and a log line, while a healthy neighbour keeps answering.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use kiln_test_guests::{HTTP_ECHO, HTTP_FAULTS, HTTP_HELLO};

use crate::util::{app_dir, path_str, request, Server};

/// An app with a misbehaving component on every path but `/hello`, a healthy one there, and
/// an echo component with a small request body limit; limits in the manifest's kiln table.
fn faults_app() -> tempfile::TempDir {
    let manifest = format!(
        r#"spin_manifest_version = 2

[application]
name = "faults"

[application.tool.kiln.limits]
timeout = "20s"

[[trigger.http]]
route = "/..."
component = "faults"

[[trigger.http]]
route = "/hello"
component = "hello"

[[trigger.http]]
route = "/echo"
component = "echo"

[component.faults]
source = "{HTTP_FAULTS}"

[component.faults.tool.kiln.limits]
timeout = "1s"
max_memory = "32 MiB"
max_response_body = "1 MiB"
max_concurrent = 4

[component.hello]
source = "{HTTP_HELLO}"

[component.echo]
source = "{HTTP_ECHO}"

[component.echo.tool.kiln.limits]
max_request_body = "1 KiB"
"#
    );
    app_dir(&[("spin.toml", &manifest)])
}

/// Requests `/hello` in a loop until stopped; counts answers that were not 200.
struct Neighbour {
    stop: Arc<AtomicBool>,
    served: Arc<AtomicUsize>,
    failed: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Neighbour {
    fn start(url: &str) -> Self {
        let (stop, served, failed) = Default::default();
        let (s, ok, bad): (Arc<AtomicBool>, Arc<AtomicUsize>, Arc<AtomicUsize>) =
            (Arc::clone(&stop), Arc::clone(&served), Arc::clone(&failed));
        let url = url.to_string();
        let task = tokio::spawn(async move {
            while !s.load(Ordering::Relaxed) {
                let response = request(&url, "GET", "/hello", &[], "").await;
                if response.status == 200 && response.body == "Hello, kiln!\n" {
                    ok.fetch_add(1, Ordering::Relaxed);
                } else {
                    bad.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        Self {
            stop,
            served,
            failed,
            task,
        }
    }

    /// Stops the loop; asserts it was served throughout.
    async fn finish(self) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap();
        assert!(self.served.load(Ordering::Relaxed) > 0);
        assert_eq!(
            self.failed.load(Ordering::Relaxed),
            0,
            "the neighbour got errors"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_guest_fault_ends_only_its_request() {
    let dir = faults_app();
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    let neighbour = Neighbour::start(&server.url);
    for (path, status, reason) in [
        ("/loop", 504, "reason=timeout"),
        ("/trap", 500, "reason=trap"),
        ("/panic", 500, "the guest panicked on purpose"),
        ("/divide", 500, "attempt to divide by zero"),
        ("/stack", 500, "call stack exhausted"),
        ("/memory", 500, "reason=memory_limit"),
    ] {
        let response = server.get(path).await;
        assert_eq!(response.status, status, "{path}: {}", server.stderr());
        assert!(server.stderr_shows(reason), "{path}: {}", server.stderr());
        // The same component answers its next request.
        assert_eq!(server.get("/ok").await.body, "ok", "after {path}");
    }
    assert!(server.stderr_shows("component_id=faults route=/..."));
    neighbour.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_ends_or_never_stops_is_cut_off() {
    let dir = faults_app();
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    let neighbour = Neighbour::start(&server.url);

    // The head and the first chunk arrive; at the deadline the body fails, it never ends
    // as if complete.
    let (status, body) = server.get_streamed("/slow-body").await;
    assert_eq!(status, 200);
    let error = body.unwrap_err();
    assert!(error.starts_with("first chunk"), "{error}");
    assert!(server.stderr_shows("reason=timeout"), "{}", server.stderr());

    // An endless body stops at the limit, and so does the instance.
    let (status, body) = server.get_streamed("/huge-body").await;
    assert_eq!(status, 200);
    let received = body.unwrap_err();
    assert!(received.len() <= 1 << 20, "{} bytes", received.len());
    assert!(
        server.stderr_shows("reason=response_too_large"),
        "{}",
        server.stderr()
    );
    assert_eq!(server.get("/ok").await.body, "ok");
    neighbour.finish().await;
}

#[tokio::test]
async fn request_bodies_over_the_limit_get_413() {
    let dir = faults_app();
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    let small = "x".repeat(1000);
    let response = server.request("POST", "/echo", &[], &small).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.lines_with("body: "), std::slice::from_ref(&small));
    // Declared too large: refused before any guest runs.
    let large = "x".repeat(2000);
    let response = server.request("POST", "/echo", &[], &large).await;
    assert_eq!(response.status, 413);
    // Streamed without a length: refused once the guest reads past the limit.
    let response = server.post_chunked("/echo", &[&small, &small]).await;
    assert_eq!(response.status, 413);
    assert!(server.stderr_shows("reason=request_too_large"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_past_max_concurrent_wait_then_get_503() {
    let dir = faults_app();
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    // Four slots: four sleepers take them all (the timeout is 1 s, so they sleep 600 ms).
    let sleepers: Vec<_> = (0..4)
        .map(|_| {
            let url = server.url.clone();
            tokio::spawn(async move { request(&url, "GET", "/sleep?ms=600", &[], "").await })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // A fifth waits for a slot; one frees up before the queue gives up.
    let waiting = server.get("/ok").await;
    assert_eq!(waiting.status, 200);
    for sleeper in sleepers {
        assert_eq!(sleeper.await.unwrap().body, "slept");
    }
    // Held longer than the queue waits: the next request is refused with 503.
    let dir = app_dir(&[(
        "spin.toml",
        &format!(
            "spin_manifest_version = 2\n[application]\nname = \"busy\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"busy\"\n[component.busy]\nsource = \"{HTTP_FAULTS}\"\n"
        ),
    )]);
    let server = Server::start(&[
        "up",
        "-f",
        path_str(dir.path()),
        "--max-concurrent",
        "1",
        "--timeout",
        "5s",
    ]);
    let url = server.url.clone();
    let sleeper =
        tokio::spawn(async move { request(&url, "GET", "/sleep?ms=3000", &[], "").await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let refused = server.get("/ok").await;
    assert_eq!(refused.status, 503);
    assert!(server.stderr_shows("reason=busy"));
    assert_eq!(sleeper.await.unwrap().body, "slept");
    assert_eq!(server.get("/ok").await.status, 200);
}

#[test]
fn a_bad_limit_names_its_line_and_the_fix() {
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"bad\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"web\"\n[component.web]\nsource = \"{HTTP_HELLO}\"\n[component.web.tool.kiln.limits]\ntimeout = \"soon\"\n"
    );
    let dir = app_dir(&[("spin.toml", &manifest)]);
    let output = crate::util::kiln_output(&["up", "-f", path_str(dir.path())]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("spin.toml:10:11: \"soon\" is not a duration: write a number and a unit such as \"30s\""),
        "{stderr}"
    );
}
