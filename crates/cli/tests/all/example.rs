//! The example a newcomer runs first (README): `kiln up --build` on examples/hello-rust.

use std::path::Path;

use crate::util::{kiln, path_str, Server};

#[tokio::test]
async fn the_hello_rust_example_builds_and_serves() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/hello-rust");
    let mut command = kiln();
    // The example's manifest expects cargo's default target directory.
    command.env_remove("CARGO_TARGET_DIR");
    let server = Server::start_with(command, &["up", "--build", "-f", path_str(&example)]);
    let response = server.get("/you").await;
    assert_eq!(response.status, 200, "{}", server.stderr());
    assert_eq!(response.body, "Hello, you! (served by kiln)\n");
    assert!(
        server.stderr_shows("Building component hello"),
        "{}",
        server.stderr()
    );
}
