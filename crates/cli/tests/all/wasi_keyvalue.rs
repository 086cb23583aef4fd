//! `wasi:keyvalue@0.2.0-draft` (as wasmtime-wasi-keyvalue ships it) on `kiln up`, over the same
//! stores and grants as Spin's key-value. The `0.2.0-draft2` version is driven by the Python
//! guest (`python.rs`).

use kiln_test_guests::WASI_KEYVALUE_DRAFT;

use crate::util::{app_dir, path_str, Server};

#[tokio::test]
async fn draft_store_atomics_and_batch_follow_the_grants() {
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "wasi-keyvalue"
[[trigger.http]]
route = "/granted/..."
component = "granted"
[[trigger.http]]
route = "/..."
component = "ungranted"
[component.granted]
source = "{WASI_KEYVALUE_DRAFT}"
key_value_stores = ["default"]
[component.ungranted]
source = "{WASI_KEYVALUE_DRAFT}"
"#
    );
    let dir = app_dir(&[("spin.toml", &manifest)]);
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    let body = |path: &'static str| {
        let server = &server;
        async move { server.get(path).await.body }
    };
    assert_eq!(body("/granted/set/a/1").await, "set");
    assert_eq!(body("/granted/get/a").await, "1");
    assert_eq!(body("/granted/exists/a").await, "true");
    assert_eq!(body("/granted/incr/a/41").await, "42");
    assert_eq!(body("/granted/get/missing").await, "none");
    assert_eq!(body("/granted/batch").await, "b1=1,b2=2,- b1-exists=false");
    assert_eq!(body("/granted/keys").await, "a,b2");
    assert_eq!(body("/granted/delete/a").await, "deleted");
    assert_eq!(body("/granted/exists/a").await, "false");

    assert_eq!(body("/granted/open/other").await, "Error::AccessDenied");
    assert_eq!(body("/open/default").await, "Error::AccessDenied");
    let text = server.get("/granted/set/t/abc").await;
    assert_eq!(text.status, 200);
    let not_a_number = server.get("/granted/incr/t/1").await;
    assert_eq!(not_a_number.status, 500);
    assert!(
        not_a_number.body.contains("not an integer"),
        "{}",
        not_a_number.body
    );
}
