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
use wasmtime::component::{HasData, Linker};

use super::capability::{Capability, ComponentContext};
use super::labels::Handles;
use super::servers::ServerAccess;
use crate::network::address_for_messages;
use crate::LoadError;
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
    access: Arc<ServerAccess<MqttPool>>,
    open: Handles<Arc<Session>>,
}

impl MqttInstance {
    pub(crate) fn new(component_id: Arc<str>, access: Arc<ServerAccess<MqttPool>>) -> Self {
        Self {
            component_id,
            access,
            open: Handles::new(MAX_OPEN_CONNECTIONS),
        }
    }

    /// Checks `address` against the grants; the pool to connect with.
    fn admit(&self, address: &str) -> Result<MqttPool, String> {
        if self.access.allows(address, &["mqtt", "mqtts"]) {
            return Ok(self.access.pool.clone());
        }
        let shown = address_for_messages(address);
        tracing::error!(
            component_id = %self.component_id,
            "MQTT connection to {shown} denied: add its mqtt://host:port (mqtts:// for TLS) to allowed_outbound_hosts"
        );
        // Spin's words, which guests match on.
        Err(format!("address {address} is not permitted"))
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

/// MQTT: `fermyon:spin/mqtt@2.0.0` and `spin:mqtt/mqtt@3.0.0`. One pool per app, the component's outbound grant, a handle table per instance.
pub(crate) struct Mqtt;

impl Capability for Mqtt {
    type AppState = MqttPool;
    type ComponentState = ServerAccess<MqttPool>;
    type InstanceState = MqttInstance;

    fn link<T: Send + 'static>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> &mut MqttInstance,
    ) -> anyhow::Result<()> {
        kiln_world::v2::mqtt::add_to_linker::<_, HasMqtt>(linker, get)?;
        kiln_world::v3::mqtt::add_to_linker::<_, HasMqtt>(linker, get)?;
        Ok(())
    }

    fn configure_component(
        pool: &MqttPool,
        component: &ComponentContext<'_>,
    ) -> Result<Self::ComponentState, LoadError> {
        Ok(ServerAccess::new(pool, component))
    }

    fn new_instance(access: &Arc<Self::ComponentState>, id: &Arc<str>) -> MqttInstance {
        MqttInstance::new(id.clone(), access.clone())
    }
}

/// `HasData` marker for linking.
pub(crate) struct HasMqtt;

impl HasData for HasMqtt {
    type Data<'a> = &'a mut MqttInstance;
}
