//! Component dependencies (`[component.ID.dependencies]`), composed at load: a Rust HTTP
//! component whose `kiln-test:greet/greeter` import a Python component satisfies (by path, and
//! by URL with its digest), and one whose import another component of the app satisfies (by
//! id); `kiln compose` writes the composition, which `kiln serve` runs; a wrong dependency or a
//! wrong digest is a clear error; a dependency reaches the component's grants only with
//! `dependencies_inherit_configuration = true`; `kiln registry publish` puts greeters in a real
//! registry as package versions, and a registry dependency runs the highest one it allows;
//! `kiln registry push` ships each component composed, which a host pulls and runs.

use kiln_test_guests::{GREET_PYTHON, GREET_RUST, HTTP_GREET};

use crate::util::{app_dir, kiln_output, path_str, up_refused, Server};

const GREETER: &str = "kiln-test:greet/greeter@0.1.0";

/// An app whose one component, `web` (the HTTP greeter client, on every route), has the
/// `dependency` line (TOML) as its only dependency: line 10 of its spin.toml.
fn web_app(dependency: &str) -> tempfile::TempDir {
    web_app_with("", dependency, &[])
}

/// [`web_app`] with more `fields` (TOML lines) for the component, and more `files`.
fn web_app_with(fields: &str, dependency: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "web"
[[trigger.http]]
route = "/..."
component = "web"
[component.web]
source = "{HTTP_GREET}"
{fields}[component.web.dependencies]
{dependency}
"#
    );
    let mut files = files.to_vec();
    files.push(("spin.toml", &manifest));
    app_dir(&files)
}

fn app() -> tempfile::TempDir {
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "polyglot"
[[trigger.http]]
route = "/py/..."
component = "from-python"
[[trigger.http]]
route = "/rs/..."
component = "from-rust"
[component.from-python]
source = "{HTTP_GREET}"
[component.from-python.dependencies]
"{GREETER}" = {{ path = "{GREET_PYTHON}" }}
[component.from-rust]
source = "{HTTP_GREET}"
[component.from-rust.dependencies]
"{GREETER}" = {{ component = "greeter" }}
[component.greeter]
source = "{GREET_RUST}"
"#
    );
    app_dir(&[("spin.toml", &manifest)])
}

#[tokio::test]
async fn a_rust_component_uses_a_greeter_written_in_python() {
    let dir = app();
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    let python = server.get("/py/kiln").await;
    assert_eq!(
        (python.status, python.body.as_str()),
        (200, "Hello from Python, kiln!"),
        "{}",
        server.stderr()
    );
    let rust = server.get("/rs/kiln").await;
    assert_eq!(rust.body, "Hello from Rust, kiln!");
}

#[tokio::test]
async fn kiln_compose_writes_one_component_that_runs_alone() {
    let dir = app();
    let out = dir.path().join("composed.wasm");
    let output = kiln_output(&[
        "compose",
        "from-python",
        "-f",
        path_str(dir.path()),
        "-o",
        path_str(&out),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let server = Server::start(&["serve", path_str(&out)]);
    assert_eq!(server.get("/x/ada").await.body, "Hello from Python, ada!");

    // Two components have dependencies: compose must be told which.
    let output = kiln_output(&["compose", "-f", path_str(dir.path()), "-o", path_str(&out)]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("from-python, from-rust"), "{stderr}");
}

#[test]
fn a_dependency_that_does_not_fit_is_a_clear_error() {
    let wrong_provider = format!(r#""{GREETER}" = {{ path = "{HTTP_GREET}" }}"#);
    let dir = web_app(&wrong_provider);
    let stderr = up_refused(crate::util::kiln(), dir.path());
    assert!(
        stderr.contains("component \"web\": composing its dependencies"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("does not export {GREETER}")),
        "{stderr}"
    );

    let unknown = wrong_provider.replace(
        &format!("{{ path = \"{HTTP_GREET}\" }}"),
        "{ component = \"nobody\" }",
    );
    let dir = web_app(&unknown);
    let stderr = up_refused(crate::util::kiln(), dir.path());
    assert!(
        stderr.contains("names component \"nobody\", which is not another component of this app"),
        "{stderr}"
    );
    assert!(stderr.contains("spin.toml:10:"), "{stderr}");
}

/// A local HTTP server answering every request with `body`, on its own thread; its URL.
pub(crate) fn serve_file(body: Vec<u8>) -> String {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/greet.wasm", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    url
}

#[tokio::test]
async fn a_dependency_by_url_is_fetched_and_checked_against_its_digest() {
    let wasm = std::fs::read(GREET_PYTHON).unwrap();
    let digest = kiln_manifest::digest_of(&wasm);
    let url = serve_file(wasm);
    let app = |digest: &str| {
        web_app(&format!(
            r#""{GREETER}" = {{ url = "{url}", digest = "{digest}" }}"#
        ))
    };
    let cache = tempfile::tempdir().unwrap();
    let dir = app(&digest);
    let mut command = crate::util::kiln();
    command.env("KILN_CACHE_DIR", cache.path());
    let server = Server::start_with(command, &["up", "-f", path_str(dir.path())]);
    assert_eq!(server.get("/url").await.body, "Hello from Python, url!");
    drop(server);

    let wrong = format!("sha256:{}", "0".repeat(64));
    let dir = app(&wrong);
    let mut command = crate::util::kiln();
    command.env("KILN_CACHE_DIR", cache.path());
    let stderr = up_refused(command, dir.path());
    assert!(
        stderr.contains(&format!(
            "has digest {digest}, not the {wrong} the manifest names"
        )),
        "{stderr}"
    );
}

/// An app whose component holds every grant the greeter probes (an environment variable, a
/// file, the default key-value store, outbound HTTP to `port`) and passes its dependency
/// `inherit` as `dependencies_inherit_configuration`.
fn granting_app(inherit: bool, port: u16) -> tempfile::TempDir {
    let grants = format!(
        r#"environment = {{ GREETER_SECRET = "s3cret", GREETER_PORT = "{port}" }}
files = ["greeting.txt"]
key_value_stores = ["default"]
allowed_outbound_hosts = ["http://127.0.0.1:{port}"]
dependencies_inherit_configuration = {inherit}
"#
    );
    web_app_with(
        &grants,
        &format!(r#""{GREETER}" = {{ path = "{GREET_RUST}" }}"#),
        &[("greeting.txt", "hello\n")],
    )
}

#[tokio::test]
async fn a_dependency_gets_the_components_grants_only_when_it_inherits_them() {
    let url = serve_file(b"ok".to_vec());
    let port: u16 = url
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();

    let dir = granting_app(false, port);
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    let denied = server.get("/capabilities").await;
    assert_eq!(denied.status, 200, "{}", server.stderr());
    let body = denied.body;
    assert!(body.starts_with("env=none file=none kv="), "{body}");
    assert!(body.contains("kv=Error::AccessDenied"), "{body}");
    assert!(body.contains("http=ErrorCode::HttpRequestDenied"), "{body}");
    drop(server);

    let dir = granting_app(true, port);
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    let granted = server.get("/capabilities").await;
    assert_eq!(
        granted.body,
        "env=s3cret file=hello kv=open http=200",
        "{}",
        server.stderr()
    );
}

/// `kiln` with its own wasm-pkg config directory (`$XDG_CONFIG_HOME/wasm-pkg/config.toml`).
fn kiln_with_config(config: &std::path::Path) -> std::process::Command {
    let mut command = crate::util::kiln();
    command.env("XDG_CONFIG_HOME", config);
    command
}

#[tokio::test]
async fn a_dependency_from_a_registry_is_the_highest_version_its_requirement_allows() {
    let registry = crate::brokers::Broker::registry();
    let host = registry.host();
    let config = tempfile::tempdir().unwrap();
    for (wasm, version) in [
        (GREET_RUST, "1.0.0"),
        (GREET_PYTHON, "1.2.0"),
        (HTTP_GREET, "2.0.0"),
    ] {
        let package = format!("kiln-test:greet@{version}");
        let output = kiln_with_config(config.path())
            .args(["registry", "publish", wasm, &package, "--registry", &host])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.starts_with(&format!(
                "Published {package} as {host}/kiln-test/greet:{version}@sha256:"
            )),
            "{stdout}"
        );
    }

    // An independent client sees a Wasm OCI artifact: wasm-pkg's config and layer types.
    let inspect = std::process::Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{host}/kiln-test/greet:1.2.0"))
        .output()
        .expect("skopeo (scripts/services.sh installs it)");
    let manifest: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );
    assert_eq!(manifest["layers"][0]["mediaType"], "application/wasm");

    // `^1.0` at a named registry: 1.2.0 (Python), not 1.0.0, nor 2.0.0.
    let dir = web_app(&format!(
        r#""{GREETER}" = {{ version = "^1.0", registry = "{host}" }}"#
    ));
    let server = Server::start_with(
        kiln_with_config(config.path()),
        &["up", "-f", path_str(dir.path())],
    );
    let greeting = server.get("/ada").await;
    assert_eq!(
        greeting.body,
        "Hello from Python, ada!",
        "{}",
        server.stderr()
    );
    assert!(
        server
            .stderr()
            .contains("kiln-test:greet ^1.0 is 1.2.0 (127.0.0.1:"),
        "{}",
        server.stderr()
    );
    drop(server);

    // A package-wide name and a bare version, its registry from wasm-pkg's config.
    std::fs::create_dir_all(config.path().join("wasm-pkg")).unwrap();
    std::fs::write(
        config.path().join("wasm-pkg").join("config.toml"),
        format!("[namespace_registries]\nkiln-test = \"{host}\"\n"),
    )
    .unwrap();
    let dir = web_app(r#""kiln-test:greet" = "=1.0.0""#);
    let server = Server::start_with(
        kiln_with_config(config.path()),
        &["up", "-f", path_str(dir.path())],
    );
    assert_eq!(server.get("/ada").await.body, "Hello from Rust, ada!");
    drop(server);

    // No version matches: the versions there are listed.
    let dir = web_app(r#""kiln-test:greet" = "^3""#);
    let stderr = up_refused(kiln_with_config(config.path()), dir.path());
    assert!(
        stderr.contains("kiln-test:greet: no version at")
            && stderr.contains("matches ^3 (it has 1.0.0, 1.2.0, 2.0.0)"),
        "{stderr}"
    );
}

#[tokio::test]
async fn kiln_registry_push_ships_each_component_composed_with_its_dependencies() {
    let registry = crate::brokers::Broker::registry();
    let reference = format!("{}/kiln-test/polyglot:v1", registry.host());
    let dir = app();
    let output = kiln_output(&[
        "registry",
        "push",
        &reference,
        "-f",
        path_str(dir.path()),
        "--insecure",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let cache = tempfile::tempdir().unwrap();
    let mut command = crate::util::kiln();
    command.env("KILN_CACHE_DIR", cache.path());
    let server = Server::start_with(command, &["up", "--from", &reference, "--insecure"]);
    let python = server.get("/py/kiln").await;
    assert_eq!(
        python.body,
        "Hello from Python, kiln!",
        "{}",
        server.stderr()
    );
    assert_eq!(server.get("/rs/kiln").await.body, "Hello from Rust, kiln!");
}
