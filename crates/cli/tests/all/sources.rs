//! Component sources elsewhere than the checkout, as Spin's manifest names them:
//! `source = { url, digest }` (downloaded once and refused unless it has the digest) and
//! `source = { registry, package, version }` (a package version published with
//! `kiln registry publish` to a real registry).

use kiln_test_guests::HTTP_HELLO;

use crate::brokers::Broker;
use crate::dependencies::serve_file;
use crate::util::{app_dir, kiln, kiln_output, path_str, up_refused, Server};

/// An app serving `/...` with component `hello` whose source is `source` (TOML): line 9.
fn app(source: &str) -> tempfile::TempDir {
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "remote"
[[trigger.http]]
route = "/..."
component = "hello"

[component.hello]
source = {source}
"#
    );
    app_dir(&[("spin.toml", &manifest)])
}

#[tokio::test]
async fn a_component_by_url_runs_when_it_has_its_digest() {
    let wasm = std::fs::read(HTTP_HELLO).unwrap();
    let digest = kiln_manifest::digest_of(&wasm);
    let url = serve_file(wasm);
    let cache = tempfile::tempdir().unwrap();

    let dir = app(&format!(r#"{{ url = "{url}", digest = "{digest}" }}"#));
    let mut command = kiln();
    command.env("KILN_CACHE_DIR", cache.path());
    let server = Server::start_with(command, &["up", "-f", path_str(dir.path())]);
    let response = server.get("/").await;
    assert_eq!(
        (response.status, response.body.as_str()),
        (200, "Hello, kiln!\n"),
        "{}",
        server.stderr()
    );
    drop(server);

    let wrong = format!("sha256:{}", "1".repeat(64));
    let dir = app(&format!(r#"{{ url = "{url}", digest = "{wrong}" }}"#));
    let mut command = kiln();
    command.env("KILN_CACHE_DIR", cache.path());
    let stderr = up_refused(command, dir.path());
    assert!(
        stderr.contains(&format!(
            "component \"hello\": source {url}: {url} has digest {digest}, not the {wrong}"
        )),
        "{stderr}"
    );

    let dir = app(&format!(r#"{{ url = "{url}", digest = "md5:abc" }}"#));
    let stderr = up_refused(kiln(), dir.path());
    assert!(stderr.contains("spin.toml:9:"), "{stderr}");
    assert!(
        stderr.contains("a URL source needs digest = \"sha256:HEX\""),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_component_from_a_registry_runs_at_the_version_named() {
    let registry = Broker::registry();
    let host = registry.host();
    let output = kiln_output(&[
        "registry",
        "publish",
        HTTP_HELLO,
        "kiln-test:hello@1.0.0",
        "--registry",
        &host,
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let source = |version: &str| {
        format!(r#"{{ registry = "{host}", package = "kiln-test:hello", version = "{version}" }}"#)
    };
    let dir = app(&source("1.0.0"));
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    assert_eq!(
        server.get("/").await.body,
        "Hello, kiln!\n",
        "{}",
        server.stderr()
    );
    drop(server);

    let dir = app(&source("1.1.0"));
    let stderr = up_refused(kiln(), dir.path());
    assert!(
        stderr.contains(
            "component \"hello\": source kiln-test:hello@1.1.0: kiln-test:hello: no version at"
        ) && stderr.contains("matches =1.1.0 (it has 1.0.0)"),
        "{stderr}"
    );
}
