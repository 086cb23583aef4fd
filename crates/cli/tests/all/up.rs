//! `kiln up`: a Spin manifest app served with Spin's routes and headers; bad apps refused
//! before listening, with the place and the fix.

use kiln_test_guests::{CLI_COMMAND, HTTP_ECHO, HTTP_HELLO};

use crate::util::{app_dir, kiln, kiln_output, path_str, Server};

/// An app as a Spin user writes it: several routes, a private component, env and files.
fn spin_app() -> tempfile::TempDir {
    let manifest = format!(
        r#"spin_manifest_version = 2

[application]
name = "spin-app"
version = "1.0.0"

[[trigger.http]]
route = "/api/..."
component = "api"

[[trigger.http]]
route = "/exact"
component = "exact"

[[trigger.http]]
route = "/users/:user_id"
component = "exact"

[[trigger.http]]
route = {{ private = true }}
component = "hidden"

[component.api]
source = "{HTTP_ECHO}"
environment = {{ REGION = "eu" }}
files = ["static/**/*", {{ source = "assets", destination = "/web" }}]
exclude_files = ["static/*.key"]

[component.exact]
source = "{HTTP_ECHO}"

[component.hidden]
source = "{HTTP_HELLO}"
"#
    );
    app_dir(&[
        ("spin.toml", &manifest),
        ("static/index.html", "<h1>home</h1>"),
        ("static/secret.key", "hunter2"),
        ("assets/app.css", "body {}"),
    ])
}

#[tokio::test]
async fn serves_a_spin_app_with_spin_headers() {
    let dir = spin_app();
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    let port = server.url.rsplit(':').next().unwrap().to_string();

    let response = server
        .request("POST", "/api/items/42?x=1", &[("x-custom", "yes")], "body!")
        .await;
    assert_eq!(response.status, 200, "{}", server.stderr());
    let header = |name: &str| {
        response
            .echoed_header(name)
            .unwrap_or_else(|| panic!("no {name} in {}", response.body))
    };
    assert_eq!(
        header("spin-full-url"),
        format!("http://127.0.0.1:{port}/api/items/42?x=1")
    );
    assert_eq!(header("spin-path-info"), "/items/42");
    assert_eq!(header("spin-matched-route"), "/api/...");
    assert_eq!(header("spin-base-path"), "/");
    assert_eq!(header("spin-raw-component-route"), "/api/...");
    assert_eq!(header("spin-component-route"), "/api");
    assert!(header("spin-client-addr").starts_with("127.0.0.1:"));
    assert_eq!(header("x-custom"), "yes");
    assert_eq!(response.lines_with("method: "), ["POST"]);
    assert_eq!(response.lines_with("path: "), ["/api/items/42?x=1"]);
    assert_eq!(response.lines_with("body: "), ["body!"]);

    let exact = server.get("/exact").await;
    assert_eq!(exact.echoed_header("spin-path-info").as_deref(), Some(""));
    assert_eq!(
        exact.echoed_header("spin-component-route").as_deref(),
        Some("/exact")
    );

    let user = server.get("/users/7").await;
    assert_eq!(
        user.echoed_header("spin-path-match-user-id").as_deref(),
        Some("7")
    );
    assert_eq!(
        user.echoed_header("spin-matched-route").as_deref(),
        Some("/users/:user_id")
    );
}

#[tokio::test]
async fn unmatched_and_private_routes_are_404() {
    let dir = spin_app();
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    for path in ["/", "/nothing", "/exact/more", "/apix"] {
        let response = server.get(path).await;
        assert_eq!(response.status, 404, "{path}");
        assert_eq!(response.body, "Not Found\n");
    }
}

#[tokio::test]
async fn prints_the_routes_it_serves() {
    let dir = spin_app();
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    let url = &server.url;
    assert_eq!(
        server.banner,
        [
            format!("Serving {url}"),
            "Available Routes:".to_string(),
            format!("  api: {url}/api (wildcard)"),
            format!("  exact: {url}/exact"),
            format!("  exact: {url}/users/:user_id"),
        ]
    );
}

#[tokio::test]
async fn a_component_gets_its_environment_and_files_only() {
    let dir = spin_app();
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    let server = &server;
    let ask = |header: &'static str, value: &'static str| async move {
        server.request("GET", "/api/", &[(header, value)], "").await
    };
    assert_eq!(
        ask("x-echo-env", "REGION").await.lines_with("env: "),
        ["REGION=eu"]
    );
    assert_eq!(
        ask("x-echo-env", "HOME").await.lines_with("env: "),
        ["HOME is not set"]
    );
    assert_eq!(
        ask("x-echo-file", "/static/index.html")
            .await
            .lines_with("file: "),
        ["<h1>home</h1>"]
    );
    assert_eq!(
        ask("x-echo-file", "/web/app.css")
            .await
            .lines_with("file: "),
        ["body {}"]
    );
    assert_eq!(
        ask("x-echo-file", "/static/secret.key")
            .await
            .lines_with("file: "),
        Vec::<String>::new()
    );
    assert_eq!(
        ask("x-echo-file", "/etc/passwd").await.lines_with("file: "),
        Vec::<String>::new()
    );
    assert_eq!(
        ask("x-echo-file", "/../../spin.toml")
            .await
            .lines_with("file: "),
        Vec::<String>::new()
    );

    // Another component has no files at all.
    let other = server
        .request(
            "GET",
            "/exact",
            &[("x-echo-file", "/static/index.html")],
            "",
        )
        .await;
    assert_eq!(other.lines_with("file: "), Vec::<String>::new());
    assert_eq!(other.lines_with("file-error: ").len(), 1);
}

#[tokio::test]
async fn kiln_toml_is_preferred_and_a_directory_or_file_can_be_given() {
    let hello = format!("spin_manifest_version = 2\n[application]\nname = \"k\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"hello\"\n[component.hello]\nsource = \"{HTTP_HELLO}\"\n");
    let broken = "this is not toml [";
    let dir = app_dir(&[("kiln.toml", &hello), ("spin.toml", broken)]);
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    assert_eq!(server.get("/").await.body, "Hello, kiln!\n");
    drop(server);

    let file = dir.path().join("kiln.toml");
    let server = Server::start(&["up", "-f", path_str(&file)]);
    assert_eq!(server.get("/x").await.status, 200);

    // With no -f, the current directory is used.
    let mut command = kiln();
    command.current_dir(dir.path());
    let server = Server::start_with(command, &["up"]);
    assert_eq!(server.get("/").await.status, 200);
}

fn up_error(files: &[(&str, &str)]) -> String {
    let dir = app_dir(files);
    let output = kiln_output(&["up", "-f", path_str(dir.path()), "--listen", "127.0.0.1:0"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&output.stdout).contains("Serving"));
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn one_component(source: &str) -> String {
    format!("spin_manifest_version = 2\n[application]\nname = \"bad\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"web\"\n[component.web]\nsource = \"{source}\"\n")
}

#[test]
fn a_manifest_error_names_file_line_and_fix() {
    let manifest = one_component("a.wasm").replace("component = \"web\"", "component = \"nope\"");
    let stderr = up_error(&[("spin.toml", &manifest)]);
    assert!(stderr.contains("spin.toml:6:13: trigger refers to component \"nope\", which is not defined: add [component.nope]"), "{stderr}");
}

#[test]
fn a_missing_source_names_the_component() {
    let stderr = up_error(&[("spin.toml", &one_component("missing.wasm"))]);
    assert!(
        stderr.contains("component \"web\": cannot read"),
        "{stderr}"
    );
    assert!(stderr.contains("missing.wasm"), "{stderr}");
}

#[test]
fn a_command_component_on_an_http_route_is_refused() {
    let stderr = up_error(&[("spin.toml", &one_component(CLI_COMMAND))]);
    assert!(
        stderr.contains("component \"web\" does not export wasi:http/incoming-handler"),
        "{stderr}"
    );
}

#[test]
fn a_core_module_is_refused() {
    let dir = app_dir(&[]);
    let module = dir.path().join("core.wasm");
    std::fs::write(&module, wat::parse_str("(module)").unwrap()).unwrap();
    let stderr = up_error(&[("spin.toml", &one_component(path_str(&module)))]);
    assert!(stderr.contains("component \"web\""), "{stderr}");
    assert!(
        stderr.contains("is a core WebAssembly module, not a component"),
        "{stderr}"
    );
}

#[test]
fn a_truncated_component_is_refused_with_its_id() {
    let dir = app_dir(&[]);
    let truncated = dir.path().join("truncated.wasm");
    let wasm = std::fs::read(HTTP_HELLO).unwrap();
    std::fs::write(&truncated, &wasm[..wasm.len() / 2]).unwrap();
    let stderr = up_error(&[("spin.toml", &one_component(path_str(&truncated)))]);
    assert!(stderr.contains("component \"web\""), "{stderr}");
    assert!(stderr.contains("truncated.wasm"), "{stderr}");
}

#[test]
fn an_import_kiln_lacks_is_named() {
    let dir = app_dir(&[]);
    let component = dir.path().join("imports.wasm");
    let wasm = wat::parse_str(
        r#"(component (import "acme:missing/thing@1.0.0" (instance (export "f" (func)))))"#,
    )
    .unwrap();
    std::fs::write(&component, wasm).unwrap();
    let stderr = up_error(&[("spin.toml", &one_component(path_str(&component)))]);
    assert!(stderr.contains("component \"web\""), "{stderr}");
    assert!(stderr.contains("acme:missing/thing@1.0.0"), "{stderr}");
}

#[tokio::test]
async fn a_second_start_compiles_nothing() {
    let cache = tempfile::tempdir().unwrap();
    let dir = app_dir(&[("spin.toml", &one_component(HTTP_HELLO))]);
    for expected in ["compiled", "loaded from the compile cache"] {
        let mut command = kiln();
        command
            .env("KILN_CACHE_DIR", cache.path())
            .env("KILN_LOG", "kiln_runtime=debug");
        let server = Server::start_with(command, &["up", "-f", path_str(dir.path())]);
        assert_eq!(server.get("/").await.status, 200);
        assert!(server.stderr_shows(expected), "{}", server.stderr());
    }
}
