//! `kiln new` → `kiln up --build` → a request answered, for every template, as a newcomer
//! would do it; `kiln add` puts a second component into an app; `kiln templates` lists them.
//! The Rust templates share one cargo target directory (through a `target` link in each new
//! project), so the Spin SDK compiles once per run.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::redis_trigger::RedisServer;
use crate::util::{kiln, path_str, Server};

/// Runs `kiln ARGS` in `dir`, with the Python venv that scripts/python-venv.sh makes on PATH
/// (componentize-py and Spin's Python SDK), as a Python developer's shell would have it.
pub(crate) fn kiln_in(dir: &Path, args: &[&str]) -> Output {
    let output = kiln()
        .current_dir(dir)
        .env("PATH", path_with_venv())
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "kiln {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn path_with_venv() -> std::ffi::OsString {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/python-venv/bin");
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(venv).chain(std::env::split_paths(&path))).unwrap()
}

/// Points `project`'s cargo target directory at the one every template build shares.
pub(crate) fn share_target(project: &Path) {
    let shared = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("template-target");
    std::fs::create_dir_all(&shared).unwrap();
    std::os::unix::fs::symlink(&shared, project.join("target")).unwrap();
}

/// `kiln up --build` of the app in `project`, with the venv on PATH.
fn up(project: &Path) -> Server {
    let mut command = kiln();
    command.env("PATH", path_with_venv());
    Server::start_with(command, &["up", "--build", "-f", path_str(project)])
}

#[test]
fn the_templates_are_listed() {
    let output = kiln_in(Path::new("."), &["templates"]);
    let listed = String::from_utf8_lossy(&output.stdout);
    for name in [
        "http-rust",
        "http-py",
        "http-js",
        "http-ts",
        "redis-rust",
        "http-empty",
    ] {
        assert!(listed.contains(name), "{listed}");
    }
}

#[tokio::test]
async fn http_rust_serves_and_takes_a_second_component() {
    let dir = tempfile::tempdir().unwrap();
    kiln_in(
        dir.path(),
        &["new", "http-rust", "hello-rust", "--accept-defaults"],
    );
    let project = dir.path().join("hello-rust");
    let manifest = std::fs::read_to_string(project.join("spin.toml")).unwrap();
    assert!(manifest.contains("[component.hello-rust]"), "{manifest}");
    assert!(
        manifest.contains(r#"watch = ["src/**/*.rs", "Cargo.toml"]"#),
        "{manifest}"
    );
    share_target(&project);
    kiln_in(
        &project,
        &[
            "add",
            "http-empty",
            "plain",
            "-v",
            "http-path=/plain/...",
            "-a",
        ],
    );
    share_target(&project.join("plain"));

    let server = up(&project);
    let hello = server.get("/anything").await;
    assert_eq!((hello.status, hello.body.as_str()), (200, "Hello World!"));
    let plain = server.get("/plain/x").await;
    assert_eq!(plain.body, "Hello from plain! You asked for /plain/x\n");
}

#[tokio::test]
async fn http_py_serves() {
    let dir = tempfile::tempdir().unwrap();
    kiln_in(
        dir.path(),
        &[
            "new",
            "http-py",
            "hello-py",
            "-a",
            "-v",
            "http-path=/py/...",
        ],
    );
    let server = up(&dir.path().join("hello-py"));
    let hello = server.get("/py/hello").await;
    assert_eq!(
        (hello.status, hello.body.as_str()),
        (200, "Hello from Python!")
    );
}

#[tokio::test]
async fn http_js_and_http_ts_serve() {
    let dir = tempfile::tempdir().unwrap();
    for (template, name) in [("http-js", "hello-js"), ("http-ts", "hello-ts")] {
        kiln_in(dir.path(), &["new", template, name, "-a"]);
        let server = up(&dir.path().join(name));
        let hello = server.get("/hello/kiln").await;
        assert_eq!(
            (hello.status, hello.body.as_str()),
            (200, "\"Hello, kiln!\""),
            "{template}"
        );
        assert_eq!(server.get("/").await.body, "hello universe", "{template}");
    }
}

#[tokio::test]
async fn redis_rust_handles_messages() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let address = format!("redis-address={}", redis.url());
    kiln_in(
        dir.path(),
        &["new", "redis-rust", "on-message", "-a", "-v", &address],
    );
    let project = dir.path().join("on-message");
    share_target(&project);
    // An HTTP component beside it, so that kiln up says where it serves once it runs.
    kiln_in(&project, &["add", "http-empty", "web", "-a"]);
    share_target(&project.join("web"));
    let server = up(&project);
    // The subscription starts as the app does; publish until the handler has seen one.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let _: i64 = redis
            .query(
                redis::cmd("PUBLISH")
                    .arg("messages")
                    .arg("hello from redis"),
            )
            .await;
        // The component prints the message; kiln echoes its guests' output.
        if server.stdout().contains("hello from redis") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", server.stderr());
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[test]
fn a_taken_name_and_an_unknown_template_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let output = kiln()
        .current_dir(dir.path())
        .args(["new", "http-cobol", "app", "-a"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no template \"http-cobol\""), "{stderr}");
    kiln_in(dir.path(), &["new", "http-empty", "app", "-a"]);
    let again = kiln()
        .current_dir(dir.path())
        .args(["new", "http-empty", "app", "-a"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
}
