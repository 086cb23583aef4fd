//! `[[trigger.cron]]`: a component runs on its schedule, each run in a fresh instance; a run
//! still going makes the next ones skipped, never stacked; a failing run is logged and counted,
//! and the next one runs. Each app also serves HTTP, so that the test knows when it is up.

use std::path::Path;
use std::time::{Duration, Instant};

use kiln_test_guests::{CRON_TICK, HTTP_HELLO};

use crate::util::{
    app_dir, kiln_output, logged_lines, metric, path_str, request, trigger_events, Server,
};

fn manifest(sleep_ms: u32, fail: bool) -> String {
    let fail = u8::from(fail);
    format!(
        r#"spin_manifest_version = 2
[application]
name = "cron"
[[trigger.http]]
route = "/..."
component = "web"
[[trigger.cron]]
cron_expression = "* * * * * *"
component = "tick"
[component.web]
source = "{HTTP_HELLO}"
[component.tick]
source = "{CRON_TICK}"
environment = {{ SLEEP_MS = "{sleep_ms}", FAIL = "{fail}" }}
"#
    )
}

/// The timestamps of the runs the `tick` component logged so far.
fn ticks(app: &Path) -> Vec<u64> {
    logged_lines(app, "tick", "cron tick ")
        .iter()
        .filter_map(|t| t.parse().ok())
        .collect()
}

/// Waits (up to 15 s) until the `tick` component has logged `count` runs.
fn wait_for_ticks(app: &Path, count: usize) -> Vec<u64> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let ticks = ticks(app);
        if ticks.len() >= count || Instant::now() > deadline {
            return ticks;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_component_runs_at_each_time_of_its_schedule() {
    let dir = app_dir(&[("spin.toml", &manifest(0, false))]);
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    assert!(
        server
            .banner
            .iter()
            .any(|l| l == "Scheduled component tick at \"* * * * * *\""),
        "{:?}",
        server.banner
    );
    let ticks = wait_for_ticks(dir.path(), 3);
    assert!(ticks.len() >= 3, "{ticks:?}\n{}", server.stderr());
    assert!(
        ticks.windows(2).all(|pair| pair[1] > pair[0]),
        "one run per second, each with its own time: {ticks:?}"
    );
}

#[test]
fn a_run_still_going_makes_the_next_ones_skipped_not_stacked() {
    let dir = app_dir(&[("spin.toml", &manifest(2500, false))]);
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    assert!(
        server.stderr_shows("skipped: the previous run is still going"),
        "{}",
        server.stderr()
    );
    let ticks = wait_for_ticks(dir.path(), 3);
    assert!(ticks.len() >= 3, "{ticks:?}\n{}", server.stderr());
    // Each run takes 2.5 s: the runs that were not skipped start at least 2 s apart.
    assert!(
        ticks.windows(2).all(|pair| pair[1] >= pair[0] + 2),
        "runs overlapped: {ticks:?}"
    );
}

#[tokio::test]
async fn a_failing_run_is_logged_and_counted_and_the_next_one_runs() {
    let dir = app_dir(&[("spin.toml", &manifest(0, true))]);
    let server = Server::start(&[
        "up",
        "-f",
        path_str(dir.path()),
        "--admin-listen",
        "127.0.0.1:0",
    ]);
    assert!(
        server.stderr_shows("cron run failed"),
        "{}",
        server.stderr()
    );
    let ticks = wait_for_ticks(dir.path(), 2);
    assert!(ticks.len() >= 2, "{ticks:?}\n{}", server.stderr());
    let metrics = request(&server.admin_url(), "GET", "/metrics", &[], "")
        .await
        .body;
    let failures = metric(
        &metrics,
        "kiln_failures_total{component=\"tick\",reason=\"guest_error\"}",
    );
    assert!(failures.is_some_and(|n| n >= 1.0), "{metrics}");
    let events = trigger_events(&metrics, "cron", "tick", "guest_error");
    assert!(events.is_some_and(|n| n >= 1.0), "{metrics}");
    // The app's HTTP component is untouched.
    assert_eq!(server.get("/").await.status, 200);
}

#[test]
fn a_component_without_the_cron_export_is_refused_at_load() {
    let manifest = manifest(0, false).replace(CRON_TICK, HTTP_HELLO);
    let dir = app_dir(&[("spin.toml", &manifest)]);
    let output = kiln_output(&["up", "-f", path_str(dir.path()), "--listen", "127.0.0.1:0"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("component \"tick\" does not export handle-cron-event"),
        "{stderr}"
    );
}
