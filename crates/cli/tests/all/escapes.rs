//! Guests trying to reach what they were not granted: files outside their directories (by
//! `..`, by symlinks, by absolute paths), the host's environment, raw TCP to hosts outside
//! `allowed_outbound_hosts`, and another app's key-value store. Each attempt must fail; TCP
//! where a `tcp://` (or `*://`) entry grants it must work.

use kiln_test_guests::{HTTP_ECHO, SPIN_SDK_V2, TCP_CONNECT};

use crate::util::{app_dir, path_str, Server};

#[tokio::test]
async fn files_outside_the_granted_directory_stay_out_of_reach() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("inside.txt"), "inside").unwrap();
    std::fs::write(root.path().join("secret.txt"), "secret").unwrap();
    std::os::unix::fs::symlink("../secret.txt", data.join("relative-link")).unwrap();
    std::os::unix::fs::symlink(root.path().join("secret.txt"), data.join("absolute-link")).unwrap();
    let grant = format!("{}::/data", data.display());
    let server = Server::start(&["serve", "--dir", &grant, HTTP_ECHO]);
    let read = |path: &'static str| {
        let server = &server;
        async move {
            server
                .request("GET", "/", &[("x-echo-file", path)], "")
                .await
        }
    };
    assert_eq!(
        read("/data/inside.txt").await.lines_with("file: "),
        ["inside"]
    );
    for path in [
        "/data/../secret.txt",
        "/data/relative-link",
        "/data/absolute-link",
        "/etc/passwd",
        "../secret.txt",
    ] {
        let response = read(path).await;
        assert!(
            response.lines_with("file: ").is_empty(),
            "{path} was readable: {}",
            response.body
        );
        assert_eq!(response.lines_with("file-error: ").len(), 1, "{path}");
    }
}

#[tokio::test]
async fn an_app_component_sees_only_its_own_files_and_environment() {
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"files\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"web\"\n[component.web]\nsource = \"{HTTP_ECHO}\"\nfiles = [\"public/*\"]\nenvironment = {{ GRANTED = \"yes\" }}\n"
    );
    let dir = app_dir(&[
        ("spin.toml", &manifest),
        ("public/page.html", "page"),
        ("private.txt", "private"),
    ]);
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    let read = |header: &'static str, value: &'static str| {
        let server = &server;
        async move { server.request("GET", "/", &[(header, value)], "").await }
    };
    assert_eq!(
        read("x-echo-file", "/public/page.html")
            .await
            .lines_with("file: "),
        ["page"]
    );
    for path in ["/private.txt", "/../private.txt", "/../../../../etc/passwd"] {
        let response = read("x-echo-file", path).await;
        assert!(
            response.lines_with("file: ").is_empty(),
            "{path}: {}",
            response.body
        );
    }
    assert_eq!(
        read("x-echo-env", "GRANTED").await.lines_with("env: "),
        ["GRANTED=yes"]
    );
    for name in ["PATH", "HOME", "KILN_CACHE_DIR"] {
        assert_eq!(
            read("x-echo-env", name).await.lines_with("env: "),
            [format!("{name} is not set")]
        );
    }
}

/// A listener the guests try to reach; accepts and drops connections.
async fn tcp_target() -> (tokio::task::JoinHandle<()>, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            drop(stream);
        }
    });
    (task, addr)
}

#[tokio::test]
async fn raw_tcp_needs_allow_outbound_and_an_http_grant_does_not_open_it() {
    let (_target, addr) = tcp_target().await;
    let path = format!("/?addr={addr}");

    let open = Server::start(&["serve", "--allow-outbound", TCP_CONNECT]);
    assert_eq!(open.get(&path).await.body, "connected");

    let closed = Server::start(&["serve", TCP_CONNECT]);
    let refused = closed.get(&path).await.body;
    assert!(refused.starts_with("failed: "), "{refused}");

    // Granting HTTP to the very same address does not grant raw sockets.
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"tcp\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"tcp\"\n[component.tcp]\nsource = \"{TCP_CONNECT}\"\nallowed_outbound_hosts = [\"http://{addr}\"]\n"
    );
    let dir = app_dir(&[("spin.toml", &manifest)]);
    let app = Server::start(&["up", "-f", path_str(dir.path())]);
    let refused = app.get(&path).await.body;
    assert!(refused.starts_with("failed: "), "{refused}");
}

#[tokio::test]
async fn tcp_entries_of_allowed_outbound_hosts_open_exactly_their_sockets() {
    let (_target, addr) = tcp_target().await;
    let port = addr.rsplit_once(':').unwrap().1;
    let other = port.parse::<u16>().unwrap().wrapping_add(1).max(1);
    // Each component connects to the target with the grant its name says.
    let grants = [
        ("ip", format!("tcp://127.0.0.1:{port}")),
        ("name", format!("tcp://localhost:{port}")),
        ("network", format!("tcp://127.0.0.0/8:{port}")),
        (
            "range",
            format!("tcp://127.0.0.1:{}..65535", port.parse::<u16>().unwrap()),
        ),
        ("any-scheme", format!("*://127.0.0.1:{port}")),
        ("other-port", format!("tcp://127.0.0.1:{other}")),
        ("other-host", format!("tcp://10.0.0.1:{port}")),
        ("udp-only", format!("udp://127.0.0.1:{port}")),
        ("http-only", format!("http://127.0.0.1:{port}")),
    ];
    let mut manifest = "spin_manifest_version = 2\n[application]\nname = \"tcp\"\n".to_string();
    for (id, grant) in &grants {
        manifest.push_str(&format!(
            "[[trigger.http]]\nroute = \"/{id}/...\"\ncomponent = \"{id}\"\n[component.{id}]\nsource = \"{TCP_CONNECT}\"\nallowed_outbound_hosts = [\"{grant}\"]\n"
        ));
    }
    let dir = app_dir(&[("spin.toml", &manifest)]);
    let app = Server::start(&["up", "-f", path_str(dir.path())]);
    for (id, _) in &grants {
        let body = app.get(&format!("/{id}/?addr={addr}")).await.body;
        let granted = !id.starts_with("other") && !id.ends_with("-only");
        if granted {
            assert_eq!(body, "connected", "{id}");
        } else {
            assert!(body.starts_with("failed: "), "{id}: {body}");
        }
    }
}

#[tokio::test]
async fn one_app_cannot_read_another_apps_store() {
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"kv\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"app\"\n[component.app]\nsource = \"{SPIN_SDK_V2}\"\nkey_value_stores = [\"default\"]\n"
    );
    let first = app_dir(&[("spin.toml", &manifest)]);
    let second = app_dir(&[("spin.toml", &manifest)]);
    let a = Server::start(&["up", "-f", path_str(first.path())]);
    let b = Server::start(&["up", "-f", path_str(second.path())]);
    assert_eq!(
        a.request("PUT", "/kv/default/secret", &[], "a's")
            .await
            .body,
        "ok"
    );
    assert_eq!(a.get("/kv/default/secret").await.body, "a's");
    let other = b.get("/kv/default/secret").await;
    assert_eq!(other.body, "error: not found");
}
