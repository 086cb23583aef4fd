//! `wasmcloud:messaging/consumer` over the NATS server on 127.0.0.1:4222 (started by
//! scripts/services.sh): a component publishes and sends requests where its
//! `allowed_outbound_hosts` grants `nats://127.0.0.1:4222`, and is refused without the grant.

use futures::StreamExt;
use kiln_test_guests::NATS_MESSAGING;

use crate::util::{app_dir, path_str, Server};

const NATS: &str = "nats://127.0.0.1:4222";

fn manifest(allowed: &str) -> String {
    format!(
        r#"spin_manifest_version = 2
[application]
name = "messaging"
[application.trigger.nats]
url = "{NATS}"
[[trigger.http]]
route = "/..."
component = "messenger"
[component.messenger]
source = "{NATS_MESSAGING}"
allowed_outbound_hosts = [{allowed}]
"#
    )
}

/// A subject of this test run's own.
fn subject(name: &str) -> String {
    format!("kiln.test.{name}.{}", std::process::id())
}

#[tokio::test]
async fn a_granted_component_publishes_and_gets_replies() {
    let nats = async_nats::connect(NATS)
        .await
        .expect("NATS on 127.0.0.1:4222");
    let dir = app_dir(&[("spin.toml", &manifest(&format!("\"{NATS}\"")))]);
    let server = Server::start(&["up", "-f", path_str(dir.path())]);

    let events = subject("events");
    let mut subscriber = nats.subscribe(events.clone()).await.unwrap();
    nats.flush().await.unwrap();
    let published = server
        .request("POST", &format!("/publish/{events}"), &[], "hello")
        .await;
    assert_eq!(
        published.status,
        200,
        "{}\n{}",
        published.body,
        server.stderr()
    );
    let message = tokio::time::timeout(std::time::Duration::from_secs(5), subscriber.next())
        .await
        .expect("the message arrives")
        .unwrap();
    assert_eq!(&message.payload[..], b"hello");

    let service = subject("service");
    let mut requests = nats.subscribe(service.clone()).await.unwrap();
    nats.flush().await.unwrap();
    let responder = {
        let nats = nats.clone();
        tokio::spawn(async move {
            let request = requests.next().await.unwrap();
            let answer = format!("pong: {}", String::from_utf8_lossy(&request.payload));
            nats.publish(request.reply.unwrap(), answer.into())
                .await
                .unwrap();
            nats.flush().await.unwrap();
        })
    };
    let replied = server
        .request("POST", &format!("/request/{service}"), &[], "ping")
        .await;
    assert_eq!(replied.status, 200, "{}\n{}", replied.body, server.stderr());
    assert_eq!(replied.body, "pong: ping");
    responder.await.unwrap();
}

#[tokio::test]
async fn a_component_without_the_grant_is_refused_and_the_denial_logged() {
    let dir = app_dir(&[("spin.toml", &manifest("\"nats://127.0.0.1:4333\""))]);
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    let refused = server
        .request("POST", &format!("/publish/{}", subject("denied")), &[], "x")
        .await;
    assert_eq!(refused.status, 500);
    assert!(
        refused
            .body
            .contains("nats://127.0.0.1:4222 is not permitted: add it to the component's allowed_outbound_hosts"),
        "{}",
        refused.body
    );
    assert!(
        server.stderr_shows(
            "messaging denied: add \"nats://127.0.0.1:4222\" to allowed_outbound_hosts"
        ),
        "{}",
        server.stderr()
    );
}
