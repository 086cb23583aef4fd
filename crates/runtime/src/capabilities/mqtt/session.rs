//! One MQTT session with a broker: the client and its event loop, driven by whoever publishes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, Outgoing, Packet, QoS};
use tokio::sync::Mutex;

/// How long a publish may wait for the broker.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(30);

/// Errors in a row after which a publish gives up (the event loop reconnects between them).
const MAX_FAILURES: u32 = 3;

/// A connected session. Publishes take turns: each drives the event loop until its own
/// acknowledgement arrives.
pub(crate) struct Session {
    inner: Mutex<(AsyncClient, EventLoop)>,
}

impl Session {
    /// Connects to `address` (`mqtt://host[:port]`, `mqtts://` for TLS) and waits for the
    /// broker's `CONNACK`.
    pub(crate) async fn connect(
        address: &str,
        username: &str,
        password: &str,
        keep_alive_secs: u64,
    ) -> Result<Self, String> {
        static NEXT_CLIENT: AtomicU64 = AtomicU64::new(0);
        let client_id = format!(
            "kiln-{}-{}",
            std::process::id(),
            NEXT_CLIENT.fetch_add(1, Ordering::Relaxed)
        );
        let mut options = crate::network::mqtt::broker_options(address, client_id)?;
        // Keep-alives are whole seconds; 0 turns them off.
        options.set_keep_alive(Duration::from_secs(keep_alive_secs));
        if !username.is_empty() {
            options.set_credentials(username, password);
        }
        let (client, mut events) = AsyncClient::new(options, 16);
        let connected = tokio::time::timeout(PUBLISH_TIMEOUT, async {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => return Ok(()),
                    Ok(_) => {}
                    Err(e) => return Err(format!("connecting to {address}: {e}")),
                }
            }
        })
        .await
        .map_err(|_| format!("connecting to {address}: no answer in {PUBLISH_TIMEOUT:?}"))?;
        connected?;
        Ok(Self {
            inner: Mutex::new((client, events)),
        })
    }

    /// Publishes `payload` on `topic` and waits until the broker has it at `qos`.
    pub(crate) async fn publish(
        &self,
        topic: String,
        payload: Vec<u8>,
        qos: QoS,
    ) -> Result<(), String> {
        let mut inner = self.inner.lock().await;
        let (client, events) = &mut *inner;
        client
            .publish(topic, qos, false, payload)
            .await
            .map_err(|e| format!("publishing: {e}"))?;
        tokio::time::timeout(PUBLISH_TIMEOUT, wait_for_ack(events, qos))
            .await
            .map_err(|_| format!("the broker did not acknowledge in {PUBLISH_TIMEOUT:?}"))?
    }
}

/// Drives `events` until the publish just queued is sent and, for QoS 1 and 2, acknowledged.
async fn wait_for_ack(events: &mut EventLoop, qos: QoS) -> Result<(), String> {
    let mut pkid = None;
    let mut failures = 0;
    loop {
        match events.poll().await {
            Ok(Event::Outgoing(Outgoing::Publish(id))) if pkid.is_none() => {
                if qos == QoS::AtMostOnce {
                    return Ok(());
                }
                pkid = Some(id);
            }
            Ok(Event::Incoming(Packet::PubAck(ack)))
                if qos == QoS::AtLeastOnce && Some(ack.pkid) == pkid =>
            {
                return Ok(())
            }
            Ok(Event::Incoming(Packet::PubComp(done)))
                if qos == QoS::ExactlyOnce && Some(done.pkid) == pkid =>
            {
                return Ok(())
            }
            Ok(_) => failures = 0,
            Err(e) => {
                failures += 1;
                if failures >= MAX_FAILURES {
                    return Err(format!("publishing: {e}"));
                }
            }
        }
    }
}
