//! `[[trigger.mqtt]]` (the spin-trigger-mqtt plugin's manifest and world): messages on a topic
//! filter call the component's `handle-message` with the topic; address and credentials may
//! come from variables; a failing message is logged and counted; the subscription survives a
//! restart of the broker; an unreachable broker is an error at start; `mqtts://` subscribes
//! over TLS. Each test runs a Mosquitto broker of its own.

use std::path::Path;
use std::time::{Duration, Instant};

use kiln_test_guests::{HTTP_HELLO, MQTT_HANDLER};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

use crate::brokers::Broker;
use crate::util::{
    app_dir, kiln, kiln_output, logged_lines, metrics_when, path_str, trigger_events, wait_until,
    Server,
};

/// An app whose `sensor` component takes `topic` from the broker at `address` (given as the
/// variable `broker`), logging in as `credentials`; it serves HTTP so that the test knows
/// when it is up.
fn manifest(address: &str, credentials: (&str, &str), topic: &str) -> String {
    let (user, password) = credentials;
    format!(
        r#"spin_manifest_version = 2
[application]
name = "mqtt-trigger"
[variables]
broker = {{ default = "{address}" }}
password = {{ default = "{password}", secret = true }}
[application.trigger.mqtt]
address = "{{{{ broker }}}}"
username = "{user}"
password = "{{{{ password }}}}"
keep_alive_interval = "30"
[[trigger.http]]
route = "/..."
component = "web"
[[trigger.mqtt]]
topic = "{topic}"
qos = "1"
component = "sensor"
[component.web]
source = "{HTTP_HELLO}"
[component.sensor]
source = "{MQTT_HANDLER}"
"#
    )
}

/// The messages `sensor` logged (`mqtt message TOPIC PAYLOAD`), as `TOPIC PAYLOAD`, sorted:
/// messages may run side by side.
fn logged(app: &Path) -> Vec<String> {
    let mut messages = logged_lines(app, "sensor", "mqtt message ");
    messages.sort();
    messages
}

/// Publishes `payload` on `topic` at QoS 1 to the broker on `port` as `credentials`, and
/// waits for the broker's acknowledgement.
async fn publish(
    port: u16,
    credentials: (&str, &str),
    topic: &str,
    payload: &str,
) -> Result<(), String> {
    let id = format!("kiln-test-publisher-{}-{port}", std::process::id());
    let mut options = MqttOptions::new(id, "127.0.0.1", port);
    options.set_credentials(credentials.0, credentials.1);
    let (client, mut events) = AsyncClient::new(options, 10);
    client
        .publish(topic, QoS::AtLeastOnce, false, payload.as_bytes().to_vec())
        .await
        .map_err(|e| e.to_string())?;
    let acknowledged = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::PubAck(_))) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    })
    .await
    .map_err(|_| "no acknowledgement in 5 s".to_string())?;
    let _ = client.disconnect().await;
    acknowledged
}

const CREDENTIALS: (&str, &str) = ("kiln", "secret");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_on_the_topic_filter_reach_the_component_with_their_topic() {
    let broker = Broker::mosquitto_protected(CREDENTIALS.0, CREDENTIALS.1);
    let manifest = manifest(&broker.url("mqtt"), CREDENTIALS, "sensors/+/temperature");
    let dir = app_dir(&[("spin.toml", &manifest)]);
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    let subscribed = format!(
        "Subscribed to MQTT topic \"sensors/+/temperature\" at {} for component sensor",
        broker.url("mqtt")
    );
    assert!(server.banner.contains(&subscribed), "{:?}", server.banner);
    for (topic, payload) in [
        ("sensors/kitchen/temperature", "21"),
        ("sensors/kitchen/humidity", "40"),
        ("sensors/garden/temperature", "12"),
    ] {
        publish(broker.port, CREDENTIALS, topic, payload)
            .await
            .unwrap();
    }
    wait_until(10, || logged(dir.path()).len() >= 2).await;
    assert_eq!(
        logged(dir.path()),
        [
            "sensors/garden/temperature 12",
            "sensors/kitchen/temperature 21"
        ],
        "{}",
        server.stderr()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_message_is_logged_and_counted_and_the_next_one_runs() {
    let broker = Broker::mosquitto();
    let dir = app_dir(&[(
        "spin.toml",
        &manifest(&broker.url("mqtt"), ("", ""), "jobs"),
    )]);
    let server = Server::start(&[
        "up",
        "-f",
        path_str(dir.path()),
        "--admin-listen",
        "127.0.0.1:0",
    ]);
    publish(broker.port, ("", ""), "jobs", "fail")
        .await
        .unwrap();
    publish(broker.port, ("", ""), "jobs", "next")
        .await
        .unwrap();
    wait_until(10, || logged(dir.path()).len() >= 2).await;
    assert_eq!(logged(dir.path()), ["jobs fail", "jobs next"]);
    wait_until(10, || server.stderr_shows("MQTT message failed")).await;
    assert!(server.stderr_shows("asked to fail"), "{}", server.stderr());
    let metrics = metrics_when(&server, |m| {
        trigger_events(m, "mqtt", "sensor", "guest_error") == Some(1.0)
            && trigger_events(m, "mqtt", "sensor", "ok") == Some(1.0)
    })
    .await;
    let events = |outcome| trigger_events(&metrics, "mqtt", "sensor", outcome);
    assert_eq!(events("guest_error"), Some(1.0), "{metrics}");
    assert_eq!(events("ok"), Some(1.0), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subscription_survives_a_restart_of_the_broker() {
    let mut broker = Broker::mosquitto();
    let dir = app_dir(&[(
        "spin.toml",
        &manifest(&broker.url("mqtt"), ("", ""), "ping"),
    )]);
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    publish(broker.port, ("", ""), "ping", "before")
        .await
        .unwrap();
    wait_until(10, || !logged(dir.path()).is_empty()).await;

    broker.restart();
    // The trigger connects and subscribes again by itself; until it has, messages published
    // on the new broker reach nobody, so keep publishing until one arrives.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !logged(dir.path())
        .iter()
        .any(|l| l.starts_with("ping after"))
        && Instant::now() < deadline
    {
        let _ = publish(broker.port, ("", ""), "ping", "after").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let logged = logged(dir.path());
    assert!(logged.iter().any(|l| l == "ping before"), "{logged:?}");
    assert!(
        logged.iter().any(|l| l == "ping after"),
        "{logged:?}\n{}",
        server.stderr()
    );
    assert!(
        server.stderr_shows("lost the MQTT connection"),
        "{}",
        server.stderr()
    );
    assert!(
        server.stderr_shows("subscribing to \"ping\" again"),
        "{}",
        server.stderr()
    );
}

#[test]
fn an_unreachable_broker_is_an_error_at_start() {
    let dir = app_dir(&[("spin.toml", &manifest("mqtt://127.0.0.1:1", ("", ""), "x"))]);
    let output = kiln_output(&["up", "-f", path_str(dir.path()), "--listen", "127.0.0.1:0"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains(
            "component \"sensor\": cannot subscribe to MQTT topic \"x\" at mqtt://127.0.0.1:1"
        ) && stderr.contains("start the broker, or set address under [application.trigger.mqtt]"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mqtts_address_subscribes_over_tls() {
    let (broker, plain) = Broker::mosquitto_tls();
    let address = format!("mqtts://localhost:{}", broker.port);
    let dir = app_dir(&[("spin.toml", &manifest(&address, ("", ""), "secure/#"))]);
    let mut trusting = kiln();
    trusting.env("SSL_CERT_FILE", broker.dir().join("ca.pem"));
    let server = Server::start_with(trusting, &["up", "-f", path_str(dir.path())]);
    publish(plain, ("", ""), "secure/door", "open")
        .await
        .unwrap();
    wait_until(10, || !logged(dir.path()).is_empty()).await;
    assert_eq!(
        logged(dir.path()),
        ["secure/door open"],
        "{}",
        server.stderr()
    );
}
