//! `kiln up --runtime-config-file`: the same app and guests keep their key-value data in the
//! embedded default, a SQLite file the config names, Redis or a NATS JetStream bucket, and pass
//! the same suite on each.

use kiln_test_guests::{SPIN_SDK_P3, WASI_KEYVALUE_DRAFT};

use crate::util::{app_dir, kiln_output, path_str, Server};

/// The app: three guests of three interface generations, all granted the store `default`.
fn manifest() -> String {
    format!(
        r#"spin_manifest_version = 2
[application]
name = "runtime-config"
[[trigger.http]]
route = "/p3/..."
component = "p3"
[[trigger.http]]
route = "/wasi/..."
component = "wasi"
[component.p3]
source = "{SPIN_SDK_P3}"
key_value_stores = ["default"]
[component.wasi]
source = "{WASI_KEYVALUE_DRAFT}"
key_value_stores = ["default"]
"#
    )
}

/// Writes through one guest and reads through another; keys are under `prefix`.
async fn key_value_suite(server: &Server, prefix: &str) {
    let put = server
        .request("PUT", &format!("/p3/kv/default/{prefix}a"), &[], "alpha")
        .await;
    assert_eq!(put.body, "ok", "{}", server.stderr());
    let read = server.get(&format!("/wasi/get/{prefix}a")).await;
    assert_eq!(read.body, "alpha", "{}", server.stderr());
    assert_eq!(
        server.get(&format!("/wasi/incr/{prefix}n/5")).await.body,
        "5"
    );
    assert_eq!(
        server.get(&format!("/p3/kv/default/{prefix}n")).await.body,
        "5"
    );
    let keys = server.get("/p3/kv/default").await.body;
    assert!(keys.lines().any(|k| k == format!("{prefix}a")), "{keys}");
    assert_eq!(
        server.get(&format!("/wasi/delete/{prefix}n")).await.body,
        "deleted"
    );
    assert_eq!(
        server.get(&format!("/p3/kv/default/{prefix}n")).await.body,
        "error: not found"
    );
}

/// Runs the suite with `config` as the runtime config, then checks the data outlived a restart.
async fn suite_on(config: Option<&str>, prefix: &str) -> tempfile::TempDir {
    let mut files = vec![("spin.toml", manifest())];
    if let Some(config) = config {
        files.push(("runtime-config.toml", config.to_string()));
    }
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let dir = app_dir(&files);
    let config_path = dir.path().join("runtime-config.toml");
    let mut args = vec!["up", "-f", path_str(dir.path())];
    if config.is_some() {
        args.extend(["--runtime-config-file", path_str(&config_path)]);
    }
    let server = Server::start(&args);
    key_value_suite(&server, prefix).await;
    drop(server);
    let server = Server::start(&args);
    assert_eq!(
        server.get(&format!("/wasi/get/{prefix}a")).await.body,
        "alpha"
    );
    dir
}

#[tokio::test]
async fn key_value_on_the_embedded_default() {
    let dir = suite_on(None, "").await;
    assert!(dir.path().join(".kiln/key_value.db").is_file());
}

#[tokio::test]
async fn key_value_in_a_sqlite_file_the_config_names() {
    let config = "[key_value_store.default]\ntype = \"spin\"\npath = \"data/kv.db\"\n";
    let dir = suite_on(Some(config), "").await;
    assert!(dir.path().join("data/kv.db").is_file());
    assert!(!dir.path().join(".kiln/key_value.db").exists());
}

#[tokio::test]
async fn key_value_on_redis() {
    let url = "redis://127.0.0.1:6379/14";
    let config = format!("[key_value_store.default]\ntype = \"redis\"\nurl = \"{url}\"\n");
    let prefix = format!("kiln-test-{}-", std::process::id());
    let dir = suite_on(Some(&config), &prefix).await;
    assert!(!dir.path().join(".kiln/key_value.db").exists());
    let client = redis::Client::open(url).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let value: Option<String> = redis::cmd("GET")
        .arg(format!("{prefix}a"))
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(value.as_deref(), Some("alpha"));
}

#[tokio::test]
async fn key_value_in_a_nats_bucket() {
    let bucket = format!("kiln-test-{}", std::process::id());
    let config = format!(
        "[key_value_store.default]\ntype = \"nats\"\nurl = \"nats://127.0.0.1:4222\"\nbucket = \"{bucket}\"\n"
    );
    let dir = suite_on(Some(&config), "").await;
    assert!(!dir.path().join(".kiln/key_value.db").exists());
    let client = async_nats::connect("127.0.0.1:4222").await.unwrap();
    let jetstream = async_nats::jetstream::new(client);
    let store = jetstream.get_key_value(&bucket).await.unwrap();
    let value = store.get("a").await.unwrap();
    assert_eq!(value.as_deref(), Some(&b"alpha"[..]));
    jetstream.delete_key_value(&bucket).await.unwrap();
}

#[test]
fn a_bad_runtime_config_stops_kiln_up_with_its_place() {
    let dir = app_dir(&[
        ("spin.toml", &manifest()),
        (
            "runtime-config.toml",
            "[key_value_store.default]\ntype = \"memcached\"\n",
        ),
    ]);
    let config = dir.path().join("runtime-config.toml");
    let output = kiln_output(&[
        "up",
        "-f",
        path_str(dir.path()),
        "--runtime-config-file",
        path_str(&config),
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "runtime-config.toml:2:8: unknown key-value store type \"memcached\": use \"spin\" (a SQLite file), \"redis\" or \"nats\""
        ),
        "{stderr}"
    );
}

#[test]
fn a_store_the_app_needs_but_nobody_defines_is_named() {
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "undefined-store"
[[trigger.http]]
route = "/..."
component = "wasi"
[component.wasi]
source = "{WASI_KEYVALUE_DRAFT}"
key_value_stores = ["cache"]
"#
    );
    let dir = app_dir(&[("spin.toml", &manifest)]);
    let output = kiln_output(&["up", "-f", path_str(dir.path())]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "define others as [key_value_store.cache] in a file passed with --runtime-config-file"
        ),
        "{stderr}"
    );
}

#[tokio::test]
async fn sqlite_databases_live_where_the_config_says() {
    let manifest = manifest().replace(
        "[component.p3]\nsource",
        "[component.p3]\nsqlite_databases = [\"default\", \"audit\"]\nsource",
    );
    let config = "[sqlite_database.default]\ntype = \"spin\"\npath = \"db/main.db\"\n\
                  [sqlite_database.audit]\ntype = \"spin\"\n";
    let dir = app_dir(&[("spin.toml", &manifest), ("runtime-config.toml", config)]);
    let config = dir.path().join("runtime-config.toml");
    let server = Server::start(&[
        "up",
        "-f",
        path_str(dir.path()),
        "--runtime-config-file",
        path_str(&config),
    ]);
    for database in ["default", "audit"] {
        let created = server
            .request(
                "POST",
                &format!("/p3/sql/{database}"),
                &[],
                "CREATE TABLE t (x)",
            )
            .await;
        assert_eq!(created.status, 200, "{}", created.body);
    }
    assert!(dir.path().join("db/main.db").is_file());
    assert!(dir.path().join(".kiln/audit.db").is_file());
    assert!(!dir.path().join(".kiln/sqlite_db.db").exists());
}

/// A local server that answers Vault's KV v2 read API for `secret/data/myapp/password` to the
/// token `root`; `http://127.0.0.1:PORT`.
async fn fake_vault() -> String {
    use http_body_util::Full;
    use hyper::service::service_fn;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let service = service_fn(
                |request: hyper::Request<hyper::body::Incoming>| async move {
                    let authorized = request
                        .headers()
                        .get("x-vault-token")
                        .is_some_and(|t| t == "root");
                    let (status, body) = match (authorized, request.uri().path()) {
                        (false, _) => (403, r#"{"errors":["permission denied"]}"#.to_string()),
                        (true, "/v1/secret/data/myapp/password") => (
                            200,
                            r#"{"data":{"data":{"value":"from-vault"},"metadata":{"version":1}}}"#
                                .to_string(),
                        ),
                        (true, _) => (404, r#"{"errors":[]}"#.to_string()),
                    };
                    let mut response = hyper::Response::new(Full::new(bytes::Bytes::from(body)));
                    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                    Ok::<_, std::convert::Infallible>(response)
                },
            );
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service),
            );
        }
    });
    url
}

// Multi-threaded: the fake Vault must answer while the test blocks waiting for kiln to start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variables_come_from_vault_and_prefixed_environment_variables() {
    let vault = fake_vault().await;
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "providers"
[variables]
password = {{ required = true, secret = true }}
mode = {{ default = "slow" }}
[[trigger.http]]
route = "/..."
component = "p3"
[component.p3]
source = "{SPIN_SDK_P3}"
variables = {{ password = "{{{{ password }}}}", mode = "{{{{ mode }}}}" }}
"#
    );
    let config = format!(
        "[[variables_provider]]\ntype = \"env\"\nprefix = \"MYAPP\"\n\n\
         [[variables_provider]]\ntype = \"vault\"\nurl = \"{vault}\"\ntoken = \"root\"\n\
         mount = \"secret\"\nprefix = \"myapp\"\n"
    );
    let dir = app_dir(&[("spin.toml", &manifest), ("runtime-config.toml", &config)]);
    let config = dir.path().join("runtime-config.toml");
    let mut command = crate::util::kiln();
    command.env("MYAPP_MODE", "fast");
    let server = Server::start_with(
        command,
        &[
            "up",
            "-f",
            path_str(dir.path()),
            "--runtime-config-file",
            path_str(&config),
        ],
    );
    assert_eq!(server.get("/var/password").await.body, "from-vault");
    assert_eq!(server.get("/var/mode").await.body, "fast");
    assert!(!server.stderr().contains("from-vault"));

    let wrong_token = std::fs::read_to_string(&config)
        .unwrap()
        .replace("token = \"root\"", "token = \"nope\"");
    std::fs::write(&config, wrong_token).unwrap();
    let output = kiln_output(&[
        "up",
        "-f",
        path_str(dir.path()),
        "--runtime-config-file",
        path_str(&config),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("variable \"mode\" from Vault") && stderr.contains("403 Forbidden"),
        "{stderr}"
    );
}
