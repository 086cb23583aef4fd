//! Messaging: `wasmcloud:messaging/consumer@0.2.0` (publish, request) over NATS, as wasmCloud
//! components import it.
//!
//! The server is the app's NATS: `[application.trigger.nats] url`, else
//! `nats://127.0.0.1:4222`. A component may use it only when its `allowed_outbound_hosts`
//! allows that `nats://host:port`; otherwise every call answers that it is not permitted. One
//! client per app, connected on first use and shared by every instance (it reconnects by
//! itself); per instance, no I/O.

use std::sync::Arc;
use std::time::Duration;

use kiln_world::messaging::consumer;
use kiln_world::messaging::types::BrokerMessage;
use tokio::sync::OnceCell;
use wasmtime::component::{HasData, Linker};

use super::capability::{AppContext, Capability, ComponentContext};
use crate::network::{address_allowed, address_for_messages};
use crate::LoadError;

/// The server when the app names none.
const DEFAULT_URL: &str = "nats://127.0.0.1:4222";

/// The app's NATS server, connected on first use.
#[derive(Clone)]
pub struct NatsServer {
    url: Arc<str>,
    client: Arc<OnceCell<async_nats::Client>>,
}

impl Default for NatsServer {
    fn default() -> Self {
        Self {
            url: DEFAULT_URL.into(),
            client: Arc::default(),
        }
    }
}

impl NatsServer {
    /// The client, connecting on first use.
    async fn client(&self) -> Result<async_nats::Client, String> {
        self.client
            .get_or_try_init(|| async_nats::connect(&*self.url))
            .await
            .cloned()
            .map_err(|e| {
                let url = address_for_messages(&self.url);
                format!("cannot connect to NATS at {url}: {e}")
            })
    }
}

/// What one component may do: the server, if its grants allow it.
pub struct MessagingGrant {
    component_id: Arc<str>,
    server: NatsServer,
    allowed: bool,
}

impl MessagingGrant {
    /// The client, or why the component may not use it (logged once per call).
    async fn client(&self) -> Result<async_nats::Client, String> {
        if !self.allowed {
            let url = address_for_messages(&self.server.url);
            tracing::error!(
                component_id = %self.component_id,
                "messaging denied: add \"{url}\" to allowed_outbound_hosts"
            );
            return Err(format!(
                "{url} is not permitted: add it to the component's allowed_outbound_hosts"
            ));
        }
        self.server.client().await
    }
}

/// Per-instance state: the component's grant.
pub struct MessagingInstance {
    grant: Arc<MessagingGrant>,
}

/// `wasmcloud:messaging/consumer`: one NATS client per app, the component's outbound grant.
pub(crate) struct Messaging;

impl Capability for Messaging {
    type AppState = NatsServer;
    type ComponentState = MessagingGrant;
    type InstanceState = MessagingInstance;

    fn link<T: Send + 'static>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> &mut MessagingInstance,
    ) -> anyhow::Result<()> {
        kiln_world::messaging::types::add_to_linker::<_, HasMessaging>(linker, get)?;
        kiln_world::messaging::consumer::add_to_linker::<_, HasMessaging>(linker, get)?;
        Ok(())
    }

    async fn configure_app(app: &AppContext<'_>) -> Result<NatsServer, LoadError> {
        let url = app
            .spec
            .trigger_settings
            .get("nats")
            .and_then(|settings| settings.get("url"))
            .and_then(|url| url.as_str())
            .unwrap_or(DEFAULT_URL);
        Ok(NatsServer {
            url: url.into(),
            ..NatsServer::default()
        })
    }

    fn configure_component(
        server: &NatsServer,
        component: &ComponentContext<'_>,
    ) -> Result<MessagingGrant, LoadError> {
        Ok(MessagingGrant {
            component_id: component.id.clone(),
            allowed: address_allowed(&component.grants.outbound, &server.url, &["nats"]),
            server: server.clone(),
        })
    }

    fn new_instance(grant: &Arc<MessagingGrant>, _id: &Arc<str>) -> MessagingInstance {
        MessagingInstance {
            grant: grant.clone(),
        }
    }
}

/// `HasData` marker for linking.
pub(crate) struct HasMessaging;

impl HasData for HasMessaging {
    type Data<'a> = &'a mut MessagingInstance;
}

impl kiln_world::messaging::types::Host for MessagingInstance {}

impl consumer::Host for MessagingInstance {
    async fn request(
        &mut self,
        subject: String,
        body: Vec<u8>,
        timeout_ms: u32,
    ) -> anyhow::Result<Result<BrokerMessage, String>> {
        let client = match self.grant.client().await {
            Ok(client) => client,
            Err(e) => return Ok(Err(e)),
        };
        let timeout = Duration::from_millis(timeout_ms.into());
        let request = client.request(subject.clone(), body.into());
        Ok(match tokio::time::timeout(timeout, request).await {
            Ok(Ok(reply)) => Ok(BrokerMessage {
                subject: reply.subject.to_string(),
                body: reply.payload.to_vec(),
                reply_to: reply.reply.map(|r| r.to_string()),
            }),
            Ok(Err(e)) => Err(format!("request on {subject}: {e}")),
            Err(_) => Err(format!(
                "request on {subject}: no reply within {timeout_ms} ms"
            )),
        })
    }

    async fn publish(&mut self, message: BrokerMessage) -> anyhow::Result<Result<(), String>> {
        let client = match self.grant.client().await {
            Ok(client) => client,
            Err(e) => return Ok(Err(e)),
        };
        let subject = message.subject;
        let body = message.body.into();
        let sent = match message.reply_to {
            Some(reply) => {
                client
                    .publish_with_reply(subject.clone(), reply, body)
                    .await
            }
            None => client.publish(subject.clone(), body).await,
        };
        if let Err(e) = sent {
            return Ok(Err(format!("publishing on {subject}: {e}")));
        }
        // The message has reached the server when this returns.
        Ok(client
            .flush()
            .await
            .map_err(|e| format!("publishing on {subject}: {e}")))
    }
}
