//! Past `--max-loaded-components`, the least recently used components are unloaded and load
//! again from the compile cache on their next request; a component whose compiled form is
//! gone compiles again, unless its source changed since kiln started.

use kiln_test_guests::{HTTP_ECHO, HTTP_HELLO};

use crate::util::{app_dir, kiln, metric, path_str, request, Server};

/// An app of `n` components on `/a0`, `/a1`, ..., each its own copy of the hello guest.
fn app(n: usize) -> tempfile::TempDir {
    let mut manifest = "spin_manifest_version = 2\n[application]\nname = \"many\"\n".to_string();
    for i in 0..n {
        manifest.push_str(&format!(
            "[[trigger.http]]\nroute = \"/a{i}\"\ncomponent = \"a{i}\"\n[component.a{i}]\nsource = \"a{i}.wasm\"\n"
        ));
    }
    let dir = app_dir(&[("spin.toml", &manifest)]);
    for i in 0..n {
        std::fs::copy(HTTP_HELLO, dir.path().join(format!("a{i}.wasm"))).unwrap();
    }
    dir
}

#[tokio::test]
async fn unused_components_are_unloaded_and_load_again_on_demand() {
    let dir = app(4);
    let server = Server::start(&[
        "up",
        "-f",
        path_str(dir.path()),
        "--max-loaded-components",
        "2",
        "--admin-listen",
        "127.0.0.1:0",
    ]);
    let admin = server.admin_url();
    // Round-robin over four components with room for two: every request finds its component
    // unloaded, and every one is answered.
    for _ in 0..3 {
        for i in 0..4 {
            let response = server.get(&format!("/a{i}")).await;
            assert_eq!(
                (response.status, response.body.as_str()),
                (200, "Hello, kiln!\n")
            );
        }
    }
    let metrics = request(&admin, "GET", "/metrics", &[], "").await.body;
    let value = |name| metric(&metrics, name).unwrap_or_else(|| panic!("no {name}:\n{metrics}"));
    assert!(value("kiln_components_loaded") <= 2.0, "{metrics}");
    assert!(value("kiln_component_reloads_total") >= 10.0, "{metrics}");
}

#[tokio::test]
async fn a_component_whose_compiled_form_is_gone_compiles_again_unless_its_source_changed() {
    let dir = app(2);
    let cache = tempfile::tempdir().unwrap();
    let mut command = kiln();
    command.env("KILN_CACHE_DIR", cache.path());
    let server = Server::start_with(
        command,
        &[
            "up",
            "-f",
            path_str(dir.path()),
            "--max-loaded-components",
            "1",
        ],
    );
    let clear_cache = || {
        for entry in std::fs::read_dir(cache.path()).unwrap() {
            std::fs::remove_file(entry.unwrap().path()).unwrap();
        }
    };
    // a1 loaded last at start; a0 was unloaded to make room, and its cache entry is gone.
    clear_cache();
    assert_eq!(server.get("/a0").await.status, 200);
    // Now a1 is unloaded: change its source on disk and take its compiled form away too.
    std::fs::copy(HTTP_ECHO, dir.path().join("a1.wasm")).unwrap();
    clear_cache();
    let response = server.get("/a1").await;
    assert_eq!(response.status, 500, "{}", response.body);
    assert!(
        server.stderr_shows("a1.wasm changed after kiln started"),
        "{}",
        server.stderr()
    );
    // The failed load leaves the loaded component alone.
    assert_eq!(server.get("/a0").await.status, 200);
}
