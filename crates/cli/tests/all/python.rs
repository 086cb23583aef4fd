//! A component built from Python with componentize-py and Spin's Python SDK (3.4, WASI 0.2) on
//! `kiln up`: Spin key-value and `wasi:keyvalue` (store, atomics, batch) over the default store.

use kiln_test_guests::PYTHON_KV;

use crate::util::{app_dir, path_str, Server};

fn manifest() -> String {
    format!(
        r#"spin_manifest_version = 2
[application]
name = "python-kv"
[[trigger.http]]
route = "/..."
component = "python"
[component.python]
source = "{PYTHON_KV}"
key_value_stores = ["default"]
"#
    )
}

#[tokio::test]
async fn python_key_value_round_trips_and_survives_a_restart() {
    let dir = app_dir(&[("spin.toml", &manifest())]);
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    let stored = server.request("PUT", "/kv/greeting", &[], "hej").await;
    assert_eq!((stored.status, stored.body.as_str()), (200, "stored"));
    server.request("PUT", "/kv/gone", &[], "x").await;
    assert_eq!(server.get("/kv/greeting").await.body, "hej");
    server.request("DELETE", "/kv/gone", &[], "").await;
    assert_eq!(server.get("/kv/gone").await.status, 404);
    assert_eq!(server.get("/keys").await.body, "greeting");

    let denied = server.get("/open/secret").await;
    assert_eq!(
        (denied.status, denied.body.as_str()),
        (403, "Error_AccessDenied")
    );
    drop(server);

    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    assert_eq!(server.get("/kv/greeting").await.body, "hej");
}

#[tokio::test]
async fn python_wasi_keyvalue_atomics_and_batch() {
    let dir = app_dir(&[("spin.toml", &manifest())]);
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    assert_eq!(
        server
            .request("POST", "/incr/hits?by=5", &[], "")
            .await
            .body,
        "5"
    );
    assert_eq!(
        server
            .request("POST", "/incr/hits?by=-2", &[], "")
            .await
            .body,
        "3"
    );
    assert_eq!(server.get("/kv/hits").await.body, "3");

    let first = server.request("POST", "/cas/flag", &[], "on").await;
    assert_eq!(first.body, "swapped from nothing");
    let second = server.request("POST", "/cas/flag", &[], "off").await;
    assert_eq!(second.body, "swapped from on");
    assert_eq!(server.get("/kv/flag").await.body, "off");

    let batch = server.request("POST", "/batch", &[], "").await;
    assert_eq!(
        batch.body,
        "batch-a=1,batch-b=2,batch-c=- exists-after-delete=False"
    );
}
