//! `kiln serve`: one wasi:http component on every path, requests passed through unchanged.

use kiln_test_guests::{CLI_COMMAND, HTTP_ECHO, HTTP_HELLO};

use crate::util::{kiln_output, Server};

#[tokio::test]
async fn serves_a_hello_component() {
    let server = Server::start(&["serve", HTTP_HELLO]);
    for path in ["/", "/any/path?x=1"] {
        let response = server.get(path).await;
        assert_eq!(response.status, 200);
        assert_eq!(response.body, "Hello, kiln!\n");
        assert_eq!(response.headers["content-type"], "text/plain");
    }
}

#[tokio::test]
async fn the_guest_sees_the_request_as_sent() {
    let server = Server::start(&["serve", HTTP_ECHO]);
    let response = server
        .request(
            "PUT",
            "/a/b?q=1",
            &[("x-custom", "v1"), ("x-echo-status", "201")],
            "payload",
        )
        .await;
    assert_eq!(response.status, 201);
    assert_eq!(response.lines_with("method: "), ["PUT"]);
    assert_eq!(response.lines_with("path: "), ["/a/b?q=1"]);
    assert_eq!(response.echoed_header("x-custom").as_deref(), Some("v1"));
    assert_eq!(response.lines_with("body: "), ["payload"]);
    // `kiln serve` is `wasmtime serve`: no Spin headers.
    assert_eq!(response.echoed_header("spin-full-url"), None);
}

#[tokio::test]
async fn env_is_granted_by_flag_only() {
    let server = Server::start(&["serve", "--env", "COLOR=blue", HTTP_ECHO]);
    let response = server
        .request("GET", "/", &[("x-echo-env", "COLOR")], "")
        .await;
    assert_eq!(response.lines_with("env: "), ["COLOR=blue"]);
    let response = server
        .request("GET", "/", &[("x-echo-env", "HOME")], "")
        .await;
    assert_eq!(response.lines_with("env: "), ["HOME is not set"]);
}

#[test]
fn a_command_component_is_refused_before_listening() {
    let output = kiln_output(&["serve", CLI_COMMAND, "--listen", "127.0.0.1:0"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("does not export wasi:http/incoming-handler"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&output.stdout).is_empty());
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly() {
    let mut server = Server::start(&["serve", HTTP_HELLO]);
    assert_eq!(server.get("/").await.status, 200);
    let pid = server.child().id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = server.child().wait().unwrap();
    assert_eq!(status.code(), Some(0), "{}", server.stderr());
}
