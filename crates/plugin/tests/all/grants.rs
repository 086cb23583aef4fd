//! Grants: files, environment, outbound hosts and key-value stores, each denied by default and
//! given exactly as configured.

use std::io::{Read, Write};
use std::net::TcpListener;

use kiln_plugin::{KeyValueBackend, PluginConfig, PluginError, TypedPlugin};

use super::{probe, probe_host, Probe, Session};

async fn read_file(plugin: &TypedPlugin<Probe, Session>, path: &str) -> Result<String, String> {
    plugin
        .call(Session::default(), async |probe, store| {
            probe.call_read_file(store, path).await
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn files_only_in_granted_directories() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("note.txt"), "granted").unwrap();
    let host = probe_host().build().unwrap();

    let denied = probe(&host, PluginConfig::new());
    let error = read_file(&denied, "/data/note.txt").await.unwrap_err();
    assert!(!error.is_empty());

    let granted = probe(
        &host,
        PluginConfig::new().dir_read_only(dir.path(), "/data"),
    );
    assert_eq!(
        read_file(&granted, "/data/note.txt").await.unwrap(),
        "granted"
    );
    // Only that directory.
    assert!(read_file(&granted, "/etc/hostname").await.is_err());

    let missing = host
        .load_file(
            kiln_test_guests::PLUGIN_PROBE,
            PluginConfig::new().dir("/no/such/dir", "/x"),
        )
        .err()
        .unwrap();
    assert!(matches!(missing, PluginError::Grant { .. }), "{missing}");
    assert!(missing.to_string().contains("/no/such/dir"), "{missing}");
}

#[tokio::test]
async fn only_the_granted_environment() {
    std::env::set_var("KILN_PLUGIN_HOST_SECRET", "host only");
    let host = probe_host().build().unwrap();
    let plugin = probe(&host, PluginConfig::new().env("MODE", "fast"));
    let env = async |name: &str| {
        plugin
            .call(Session::default(), async |probe, store| {
                probe.call_env(store, name).await
            })
            .await
            .unwrap()
    };
    assert_eq!(env("MODE").await.as_deref(), Some("fast"));
    assert_eq!(env("KILN_PLUGIN_HOST_SECRET").await, None);
    assert_eq!(env("PATH").await, None);
}

/// A local HTTP server answering every request with 204, on its own thread.
fn http_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n");
        }
    });
    port
}

#[tokio::test]
async fn outbound_http_only_to_granted_hosts() {
    let port = http_server();
    let url = format!("http://127.0.0.1:{port}/ping");
    let host = probe_host().build().unwrap();
    let fetch = async |plugin: &TypedPlugin<Probe, Session>| {
        plugin
            .call(Session::default(), async |probe, store| {
                probe.call_fetch(store, &url).await
            })
            .await
            .unwrap()
    };

    let denied = probe(&host, PluginConfig::new());
    let error = fetch(&denied).await.unwrap_err();
    assert!(error.contains("HttpRequestDenied"), "{error}");

    let other_port = probe(
        &host,
        PluginConfig::new().allow_outbound(format!("http://127.0.0.1:{}", port + 1)),
    );
    let error = fetch(&other_port).await.unwrap_err();
    assert!(error.contains("HttpRequestDenied"), "{error}");

    let granted = probe(
        &host,
        PluginConfig::new().allow_outbound(format!("http://127.0.0.1:{port}")),
    );
    assert_eq!(fetch(&granted).await, Ok(204));

    let malformed = host
        .load_file(
            kiln_test_guests::PLUGIN_PROBE,
            PluginConfig::new().allow_outbound("ftp//nowhere"),
        )
        .err()
        .unwrap();
    assert!(
        matches!(malformed, PluginError::Grant { .. }),
        "{malformed}"
    );
    assert!(
        malformed.to_string().contains("ftp//nowhere"),
        "{malformed}"
    );
}

#[tokio::test]
async fn key_value_stores_only_when_granted() {
    let dir = tempfile::tempdir().unwrap();
    let host = probe_host()
        .key_value_store(
            "default",
            KeyValueBackend::Sqlite(dir.path().join("plugins.db")),
        )
        .build()
        .unwrap();
    let count = async |plugin: &TypedPlugin<Probe, Session>| {
        plugin
            .call(Session::default(), async |probe, store| {
                probe.call_count(store, "visits").await
            })
            .await
            .unwrap()
    };

    let denied = probe(&host, PluginConfig::new());
    let error = count(&denied).await.unwrap_err();
    assert!(error.contains("AccessDenied"), "{error}");

    let granted = probe(&host, PluginConfig::new().key_value_store("default"));
    assert_eq!(count(&granted).await, Ok(1));
    assert_eq!(count(&granted).await, Ok(2));
    // The store outlives instances and plugins: another plugin granted it sees the count.
    let another = probe(&host, PluginConfig::new().key_value_store("default"));
    assert_eq!(count(&another).await, Ok(3));

    let undefined = host
        .load_file(
            kiln_test_guests::PLUGIN_PROBE,
            PluginConfig::new().key_value_store("sessions"),
        )
        .err()
        .unwrap();
    assert!(
        matches!(undefined, PluginError::Grant { .. }),
        "{undefined}"
    );
    assert!(undefined.to_string().contains("sessions"), "{undefined}");
}
