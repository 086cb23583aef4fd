//! `kiln watch` on an app from the `http-empty` template while a client sends requests without
//! pause: a saved edit is swapped in place and served within its build time plus a second, no
//! request fails, a broken edit leaves the previous version serving, and a changed manifest
//! reloads the app.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::templates::{kiln_in, share_target};
use crate::util::{kiln, path_str, Server};

/// Rewrites the greeting in `project`'s source.
fn edit(project: &Path, from: &str, to: &str) {
    let source = project.join("src/lib.rs");
    let text = std::fs::read_to_string(&source).unwrap();
    assert!(text.contains(from), "{text}");
    std::fs::write(&source, text.replace(from, to)).unwrap();
}

/// The build time kiln watch reported last, in ms.
fn last_build_ms(server: &Server) -> u128 {
    let stdout = server.stdout();
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("Built live in "))
        .unwrap_or_else(|| panic!("no build reported in:\n{stdout}"));
    line.trim_start_matches("Built live in ")
        .trim_end_matches(" ms")
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_edits_are_swapped_in_without_failing_a_request() {
    let dir = tempfile::tempdir().unwrap();
    kiln_in(dir.path(), &["new", "http-empty", "live", "-a"]);
    let project = dir.path().join("live");
    share_target(&project);
    let server = Server::start_with(kiln(), &["watch", "-f", path_str(&project)]);
    assert!(server.get("/x").await.body.starts_with("Hello from live!"));

    let done = std::sync::atomic::AtomicBool::new(false);
    let bodies = std::sync::Mutex::new(Vec::<(Instant, String)>::new());
    let client = async {
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            let response = server.get("/x").await;
            assert_eq!(response.status, 200, "{}", response.body);
            bodies.lock().unwrap().push((Instant::now(), response.body));
        }
    };
    let edits = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let saved = Instant::now();
        edit(&project, "Hello from", "Changed in");
        let deadline = saved + Duration::from_secs(300);
        let served = loop {
            let seen = bodies
                .lock()
                .unwrap()
                .iter()
                .find(|(_, body)| body.starts_with("Changed in live!"))
                .map(|(at, _)| *at);
            if let Some(at) = seen {
                break at;
            }
            assert!(Instant::now() < deadline, "{}", server.stderr());
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let build = Duration::from_millis(last_build_ms(&server) as u64);
        let took = served - saved;
        assert!(
            took <= build + Duration::from_secs(1),
            "new version served {took:?} after the save, build took {build:?}"
        );
        // An HTTP component is swapped inside the running app, not the app reloaded.
        assert!(
            server.stdout().contains("Swapped live in place: "),
            "{}",
            server.stdout()
        );

        // A broken edit: the build fails, the previous version keeps serving.
        edit(&project, "Changed in", "Changed in\" broken");
        assert!(server.stderr_shows("The previous version keeps serving."));

        // A changed manifest (a narrower route) loads the whole app again, the same way.
        let manifest = project.join("spin.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        assert!(text.contains(r#"route = "/...""#), "{text}");
        std::fs::write(
            &manifest,
            text.replace(r#"route = "/...""#, r#"route = "/x/...""#),
        )
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while server.get("/elsewhere").await.status != 404 {
            assert!(Instant::now() < deadline, "{}", server.stderr());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(server
            .stdout()
            .contains("Serving the new version of the app: "));
        tokio::time::sleep(Duration::from_millis(300)).await;
        done.store(true, std::sync::atomic::Ordering::Relaxed);
    };
    tokio::join!(client, edits);
    let last = bodies.lock().unwrap().last().unwrap().1.clone();
    assert!(last.starts_with("Changed in live!"), "{last}");
    let served = bodies.lock().unwrap().len();
    assert!(served > 10, "only {served} requests were sent");
}
