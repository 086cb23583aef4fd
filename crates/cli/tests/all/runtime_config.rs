//! `kiln up --runtime-config-file`: the same app and guests keep their key-value data in the
//! embedded default, a SQLite file the config names, or Redis, and pass the same suite on each.

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
