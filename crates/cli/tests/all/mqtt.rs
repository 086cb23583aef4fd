//! `fermyon:spin/mqtt@2.0.0` and `spin:mqtt@3.0.0`: publishes reach a real broker at each QoS,
//! only where granted, and with credentials a protected broker of the test's own (Mosquitto
//! on a free port, `allow_anonymous false`) accepts; `mqtts://` reaches a broker over TLS whose
//! certificate a test CA signed, trusted through `SSL_CERT_FILE`, and is refused without it.

use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::brokers::Broker;
use crate::spin::{start, with_p3};
use crate::util::{app_dir, kiln, path_str, Server};

/// Subscribes to `topic` on the broker at `port` and passes on every payload it receives.
async fn subscriber(
    port: u16,
    credentials: Option<(&str, &str)>,
    topic: &str,
) -> UnboundedReceiver<String> {
    let id = format!("kiln-test-{}-{port}-{topic}", std::process::id()).replace('/', "-");
    let mut options = MqttOptions::new(id, "127.0.0.1", port);
    if let Some((user, password)) = credentials {
        options.set_credentials(user, password);
    }
    let (client, mut events) = AsyncClient::new(options, 16);
    client.subscribe(topic, QoS::ExactlyOnce).await.unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let (subscribed_tx, subscribed) = tokio::sync::oneshot::channel();
    let mut subscribed_tx = Some(subscribed_tx);
    tokio::spawn(async move {
        let _client = client;
        while let Ok(event) = events.poll().await {
            match event {
                Event::Incoming(Packet::SubAck(_)) => {
                    if let Some(tx) = subscribed_tx.take() {
                        let _ = tx.send(());
                    }
                }
                Event::Incoming(Packet::Publish(message)) => {
                    let _ = tx.send(String::from_utf8_lossy(&message.payload).into_owned());
                }
                _ => {}
            }
        }
    });
    subscribed.await.unwrap();
    rx
}

/// Waits for the three payloads one script publishes.
async fn receive_three(messages: &mut UnboundedReceiver<String>) -> Vec<String> {
    let mut received = Vec::new();
    while received.len() < 3 {
        let message = tokio::time::timeout(Duration::from_secs(10), messages.recv())
            .await
            .expect("the messages reach the broker")
            .unwrap();
        received.push(message);
    }
    received.sort();
    received
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_reach_a_real_broker_at_each_qos() {
    let mut v2_messages = subscriber(1883, None, "kiln/spin-sdk-v2").await;
    let mut p3_messages = subscriber(1883, None, "kiln/spin-sdk-7").await;
    let manifest = with_p3(
        r#"allowed_outbound_hosts = ["mqtt://127.0.0.1:1883"]"#,
        r#"allowed_outbound_hosts = ["mqtt://127.0.0.1:*"]"#,
    );
    let dir = app_dir(&[("spin.toml", &manifest)]);
    let server = start(&dir, &[]);
    for (path, messages) in [
        ("/mqtt?mqtt://127.0.0.1:1883", &mut v2_messages),
        ("/p3/mqtt?mqtt://127.0.0.1:1883", &mut p3_messages),
    ] {
        let published = server.get(path).await;
        assert_eq!(
            (published.status, published.body.as_str()),
            (200, "published"),
            "{}",
            server.stderr()
        );
        assert_eq!(receive_three(messages).await, ["q0", "q1", "q2"]);
    }

    let denied = server
        .get("/other/mqtt?mqtt://127.0.0.1:1883?client_id=kiln")
        .await;
    assert_eq!(
        denied.body,
        "error: Error::ConnectionFailed(\"address mqtt://127.0.0.1:1883?client_id=kiln is not permitted\")"
    );
    let unreachable = server.get("/p3/mqtt?mqtt://127.0.0.1:1").await;
    assert!(
        unreachable
            .body
            .contains("ConnectionFailed(\"connecting to mqtt://127.0.0.1:1"),
        "{}",
        unreachable.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_open_a_protected_broker() {
    let broker = Broker::mosquitto_protected("kiln", "secret");
    let port = broker.port;
    let mut v2_messages = subscriber(port, Some(("kiln", "secret")), "kiln/spin-sdk-v2").await;
    let mut p3_messages = subscriber(port, Some(("kiln", "secret")), "kiln/spin-sdk-7").await;
    let grant = format!(r#"allowed_outbound_hosts = ["mqtt://127.0.0.1:{port}"]"#);
    let dir = app_dir(&[("spin.toml", &with_p3(&grant, &grant))]);
    let server = start(&dir, &[]);
    let address = format!("mqtt://127.0.0.1:{port}");
    for (prefix, messages) in [("", &mut v2_messages), ("/p3", &mut p3_messages)] {
        let published = server
            .get(&format!("{prefix}/mqtt?{address}&kiln&secret"))
            .await;
        assert_eq!(published.body, "published", "{}", server.stderr());
        assert_eq!(receive_three(messages).await, ["q0", "q1", "q2"]);

        for refused in ["&kiln&wrong", ""] {
            let response = server
                .get(&format!("{prefix}/mqtt?{address}{refused}"))
                .await;
            assert!(
                response
                    .body
                    .contains(&format!("ConnectionFailed(\"connecting to {address}: ")),
                "{}",
                response.body
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtts_reaches_a_broker_over_tls_trusted_through_ssl_cert_file() {
    let (broker, plain) = Broker::mosquitto_tls();
    let mut v2_messages = subscriber(plain, None, "kiln/spin-sdk-v2").await;
    let mut p3_messages = subscriber(plain, None, "kiln/spin-sdk-7").await;
    let grant = format!(
        r#"allowed_outbound_hosts = ["mqtts://localhost:{}"]"#,
        broker.port
    );
    let dir = app_dir(&[("spin.toml", &with_p3(&grant, &grant))]);
    let app = ["up", "-f", path_str(dir.path()), "--variable", "who=kiln"];
    let mut trusting = kiln();
    trusting.env("SSL_CERT_FILE", broker.dir().join("ca.pem"));
    let server = Server::start_with(trusting, &app);
    let address = format!("mqtts://localhost:{}", broker.port);
    for (prefix, messages) in [("", &mut v2_messages), ("/p3", &mut p3_messages)] {
        let published = server.get(&format!("{prefix}/mqtt?{address}")).await;
        assert_eq!(published.body, "published", "{}", server.stderr());
        assert_eq!(receive_three(messages).await, ["q0", "q1", "q2"]);
    }
    // Without the test CA among its roots, kiln refuses the broker's certificate.
    let mut untrusting = kiln();
    untrusting.env("SSL_CERT_FILE", broker.dir().join("server.pem"));
    let server = Server::start_with(untrusting, &app);
    let refused = server.get(&format!("/mqtt?{address}")).await;
    assert!(
        refused
            .body
            .contains(&format!("ConnectionFailed(\"connecting to {address}: "))
            && refused.body.to_lowercase().contains("certificate"),
        "{}",
        refused.body
    );
}
