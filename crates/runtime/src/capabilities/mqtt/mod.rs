//! MQTT: `fermyon:spin/mqtt@2.0.0` and `spin:mqtt/mqtt@3.0.0`, publishing to a real broker.
//!
//! Grants: a component may open `mqtt://` addresses its `allowed_outbound_hosts` allows; any
//! other is `connection-failed`, with the reason. Connections are pooled per app, address and
//! credentials ([`MqttPool`]): `open` connects (and fails) once, later opens share the session.
//! A publish returns when the broker has it at the QoS asked for: sent (at most once), `PUBACK`
//! (at least once) or `PUBCOMP` (exactly once). Publishes on one session go one at a time.

mod session;
mod v2;
mod v3;

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Mutex;
use wasmtime::component::HasData;

use super::labels::Handles;
use super::outbound::{address_allowed, address_for_messages};
use crate::grants::Grants;
use session::Session;

/// Most connections one instance may hold open at once.
const MAX_OPEN_CONNECTIONS: usize = 64;

/// What identifies a pooled session: address, user name, password and keep-alive.
type SessionKey = (String, String, String, u64);

/// An app's MQTT sessions, shared by all its instances.
#[derive(Clone, Default)]
pub struct MqttPool {
    sessions: Arc<Mutex<HashMap<SessionKey, Arc<Session>>>>,
}

impl MqttPool {
    /// The session for `key`, connecting on first use.
    async fn connect(&self, key: SessionKey) -> Result<Arc<Session>, String> {
        let mut sessions = self.sessions.lock().await;
        if let Some(session) = sessions.get(&key) {
            return Ok(session.clone());
        }
        let session = Arc::new(Session::connect(&key.0, &key.1, &key.2, key.3).await?);
        sessions.insert(key, session.clone());
        Ok(session)
    }
}

/// Per-instance state: who is asking, what they may reach, and the sessions opened so far.
pub struct MqttInstance {
    component_id: Arc<str>,
    grants: Arc<Grants>,
    open: Handles<Arc<Session>>,
}

impl MqttInstance {
    pub(crate) fn new(component_id: Arc<str>, grants: Arc<Grants>) -> Self {
        Self {
            component_id,
            grants,
            open: Handles::new(MAX_OPEN_CONNECTIONS),
        }
    }

    /// Checks `address` against the grants; the pool to connect with.
    fn admit(&self, address: &str) -> Result<MqttPool, String> {
        if address_allowed(&self.grants.outbound, address, &["mqtt"]) {
            return Ok(self.grants.connections.mqtt.clone());
        }
        let shown = address_for_messages(address);
        tracing::error!(
            component_id = %self.component_id,
            "MQTT connection to {shown} denied: add its mqtt://host:port to allowed_outbound_hosts"
        );
        Err(format!(
            "{shown} is not allowed: add it to allowed_outbound_hosts"
        ))
    }

    /// The session behind handle `rep`.
    fn session(&self, rep: u32) -> Result<Arc<Session>, String> {
        self.open
            .get(rep)
            .cloned()
            .ok_or_else(|| "invalid connection handle".to_string())
    }
}

/// rumqttc's QoS for the `qos` of interface version `$mqtt`.
macro_rules! qos {
    ($mqtt:ident, $qos:expr) => {
        match $qos {
            $mqtt::Qos::AtMostOnce => rumqttc::QoS::AtMostOnce,
            $mqtt::Qos::AtLeastOnce => rumqttc::QoS::AtLeastOnce,
            $mqtt::Qos::ExactlyOnce => rumqttc::QoS::ExactlyOnce,
        }
    };
}
use qos;

/// `HasData` marker for linking.
pub(crate) struct HasMqtt;

impl HasData for HasMqtt {
    type Data<'a> = &'a mut MqttInstance;
}
