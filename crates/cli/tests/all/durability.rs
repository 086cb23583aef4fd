//! The embedded stores never lose an acknowledged write: kiln is killed with SIGKILL in the
//! middle of a write load, started again, and every write that got a 200 is there.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kiln_test_guests::SPIN_SDK_V2;

use crate::util::{app_dir, path_str, try_request, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() {
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"durable\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"app\"\n[component.app]\nsource = \"{SPIN_SDK_V2}\"\nkey_value_stores = [\"default\"]\nsqlite_databases = [\"default\"]\n"
    );
    let dir = app_dir(&[("spin.toml", &manifest)]);
    let mut server = Server::start(&["up", "-f", path_str(dir.path())]);
    let create = r#"{"statement": "CREATE TABLE writes (n INTEGER PRIMARY KEY)", "params": []}"#;
    assert_eq!(
        server
            .request("POST", "/sql/default", &[], create)
            .await
            .status,
        200
    );

    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let (url, acknowledged) = (server.url.clone(), acknowledged.clone());
            tokio::spawn(async move {
                for i in 0.. {
                    let n = writer * 1_000_000 + i;
                    let Some(kv) = try_status(&url, "PUT", &format!("/kv/default/k{n}"), &n.to_string()).await else {
                        break;
                    };
                    let insert = format!(r#"{{"statement": "INSERT INTO writes VALUES (?)", "params": [{{"integer": {n}}}]}}"#);
                    let Some(sql) = try_status(&url, "POST", "/sql/default", &insert).await else {
                        break;
                    };
                    if kv == 200 && sql == 200 {
                        acknowledged.lock().unwrap().push(n);
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.child().kill().unwrap();
    server.child().wait().unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 20,
        "only {} writes before the kill",
        acknowledged.len()
    );

    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    for n in &acknowledged {
        let value = server.get(&format!("/kv/default/k{n}")).await;
        assert_eq!(
            value.body,
            n.to_string(),
            "key k{n} was acknowledged, then lost"
        );
    }
    let count = r#"{"statement": "SELECT COUNT(*) FROM writes", "params": []}"#;
    let rows = server
        .request("POST", "/sql/default", &[], count)
        .await
        .body;
    let stored: serde_json::Value = serde_json::from_str(&rows).unwrap();
    let stored = stored["rows"][0][0]["integer"].as_u64().unwrap();
    assert!(
        stored >= acknowledged.len() as u64,
        "{stored} rows stored, {} acknowledged",
        acknowledged.len()
    );
}

/// A request whose connection may be cut by the kill: its status, or `None` once kiln is gone.
async fn try_status(url: &str, method: &str, path: &str, body: &str) -> Option<u16> {
    try_request(url, method, path, &[], body)
        .await
        .ok()
        .map(|r| r.status)
}
