//! Messaging: `wasmcloud:messaging/consumer@0.2.0` (publish, request) over NATS, as wasmCloud
//! components import it.
//!
//! The server is the app's NATS ([`NatsServer`]): `[application.trigger.nats]`, whose `url`
//! defaults to `nats://127.0.0.1:4222`. A component may use it only when its
//! `allowed_outbound_hosts` allows that `nats://host:port`; otherwise every call answers that
//! it is not permitted. One client per app, connected on first use and shared by every instance
//! (it reconnects by itself); per instance, no I/O.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kiln_manifest::{AppSpec, ManifestError};
use kiln_world::messaging::consumer;
use kiln_world::messaging::types::BrokerMessage;
use serde::Deserialize;
use tokio::sync::OnceCell;
use wasmtime::component::{HasData, Linker};

use super::capability::{AppContext, Capability, ComponentContext};
use crate::network::{address_allowed, address_for_messages};
use crate::LoadError;

/// The server when the app names none.
const DEFAULT_URL: &str = "nats://127.0.0.1:4222";

/// `[application.trigger.nats]`: the app's NATS server and how to authenticate to it.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct NatsSettings {
    url: Option<String>,
    /// A `.creds` file (user JWT and NKey seed), relative to the manifest's directory.
    credentials: Option<PathBuf>,
    token: Option<String>,
    user: Option<String>,
    password: Option<String>,
}

/// The app's NATS server (`[application.trigger.nats]`): what the messaging capability and
/// the NATS trigger connect to.
#[derive(Clone)]
pub struct NatsServer {
    url: Arc<str>,
    settings: Arc<NatsSettings>,
    client: Arc<OnceCell<async_nats::Client>>,
}

impl Default for NatsServer {
    fn default() -> Self {
        Self {
            url: DEFAULT_URL.into(),
            settings: Arc::default(),
            client: Arc::default(),
        }
    }
}

impl NatsServer {
    /// The server `app` names under `[application.trigger.nats]`; an error at the table's
    /// line for an unknown field or a user without a password.
    pub fn of_app(app: &AppSpec) -> Result<Self, ManifestError> {
        let mut settings: NatsSettings = app.trigger_settings("nats")?;
        if settings.user.is_some() != settings.password.is_some() {
            let keys = ["application", "trigger", "nats"].map(kiln_manifest::Key::from);
            return Err(app.error_at(
                &keys,
                "NATS user and password go together: set both, or neither",
            ));
        }
        if let Some(credentials) = &mut settings.credentials {
            *credentials = app.base_dir.join(&*credentials);
        }
        Ok(Self {
            url: settings.url.as_deref().unwrap_or(DEFAULT_URL).into(),
            settings: Arc::new(settings),
            client: Arc::default(),
        })
    }

    /// The server's address, `nats://host:port`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A new connection to the server, authenticated as the settings say. It reconnects by
    /// itself when the server goes away, logging each loss and return with `purpose`.
    pub async fn connect(&self, purpose: &str) -> Result<async_nats::Client, String> {
        let shown = address_for_messages(&self.url);
        let failed = |e: &dyn std::fmt::Display| format!("cannot connect to NATS at {shown}: {e}");
        let mut options = async_nats::ConnectOptions::new();
        if let Some(path) = &self.settings.credentials {
            options = options.credentials_file(path).await.map_err(|e| {
                failed(&format_args!(
                    "reading the credentials file {}: {e}",
                    path.display()
                ))
            })?;
        }
        if let Some(token) = &self.settings.token {
            options = options.token(token.clone());
        }
        if let (Some(user), Some(password)) = (&self.settings.user, &self.settings.password) {
            options = options.user_and_password(user.clone(), password.clone());
        }
        let (server, purpose) = (shown.clone(), purpose.to_string());
        options = options.event_callback(move |event| {
            let (server, purpose) = (server.clone(), purpose.clone());
            async move {
                match event {
                    async_nats::Event::Disconnected => {
                        tracing::warn!(
                            "{purpose}: lost the NATS connection to {server}; reconnecting"
                        )
                    }
                    async_nats::Event::Connected => {
                        tracing::info!("{purpose}: connected to NATS at {server}")
                    }
                    other => tracing::debug!("{purpose}: NATS at {server}: {other}"),
                }
            }
        });
        options.connect(&*self.url).await.map_err(|e| failed(&e))
    }

    /// The shared client of the messaging capability, connecting on first use.
    async fn client(&self) -> Result<async_nats::Client, String> {
        self.client
            .get_or_try_init(|| self.connect("messaging"))
            .await
            .cloned()
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
        NatsServer::of_app(app.spec).map_err(|e| LoadError::Configure {
            what: "the NATS server",
            reason: e.into(),
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
