//! The NATS trigger: `[[trigger.nats]]` with `subject` (NATS wildcards allowed) and an
//! optional queue `group`, on the app's NATS server (`[application.trigger.nats]`: `url`, and
//! `credentials`, `token` or `user` and `password`). Each message calls the component's
//! `wasmcloud:messaging/handler` export in a fresh instance, as wasmCloud components export
//! it. A request carries its reply subject in `reply-to`; the handler answers by publishing
//! there with `wasmcloud:messaging/consumer`.
//!
//! A subscription runs up to its component's `max_concurrent` messages at once
//! ([`Dispatch`]). When the server goes away, the client reconnects and resubscribes by
//! itself, with back-off, for as long as kiln runs.

use std::sync::Arc;

use futures::StreamExt;
use kiln_manifest::{AppSpec, ManifestError, TriggerSpec};
use kiln_runtime::capabilities::messaging::NatsServer;
use kiln_runtime::{
    AppComponents, Component, ComponentLimits, Export, FailureKind, InstanceRecipe, LoadError,
    LoadedApp, StoreState,
};
use kiln_world::messaging::types::BrokerMessage;
use kiln_world::nats_handler::NatsHandlerPre;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use wasmtime::component::InstancePre;

use crate::dispatch::Dispatch;
use crate::trigger::guest_answered;
use crate::{Configured, Started, Trigger, TriggerHost, TriggerType};

/// The trigger type, as in `[[trigger.nats]]`.
pub const TYPE: &str = "nats";

/// `[[trigger.nats]]`: messages on NATS subjects.
pub const TRIGGER: TriggerType = TriggerType {
    name: TYPE,
    configure,
};

#[derive(Deserialize)]
struct RawNatsTrigger {
    subject: Option<String>,
    group: Option<String>,
}

/// One `[[trigger.nats]]` entry.
struct Subscription {
    component: String,
    subject: Arc<str>,
    group: Option<String>,
}

fn configure(app: &AppSpec) -> Result<Configured, ManifestError> {
    let server = NatsServer::of_app(app)?;
    let (subscriptions, warnings) =
        app.read_triggers(TYPE, |trigger| subscription(app, trigger))?;
    Ok(Configured {
        trigger: Box::new(NatsTrigger {
            server,
            subscriptions,
        }),
        warnings,
    })
}

fn subscription(
    app: &AppSpec,
    trigger: &TriggerSpec,
) -> Result<(Subscription, Vec<String>), ManifestError> {
    let (config, warnings) = trigger.config::<RawNatsTrigger>(app)?;
    let Some(subject) = config.subject else {
        return Err(app.error_at(
            &trigger.keys(None),
            "nats trigger has no subject: add subject = \"orders.>\" (NATS wildcards * and > allowed)",
        ));
    };
    if subject.is_empty() || subject.contains(char::is_whitespace) {
        return Err(app.error_at(
            &trigger.keys(Some("subject")),
            format!("subject \"{subject}\" is not a NATS subject: use tokens separated by dots, without spaces, such as \"orders.created\""),
        ));
    }
    if config
        .group
        .as_ref()
        .is_some_and(|g| g.is_empty() || g.contains(char::is_whitespace))
    {
        return Err(app.error_at(
            &trigger.keys(Some("group")),
            "group must be a queue group name without spaces, such as \"workers\"",
        ));
    }
    let subscription = Subscription {
        component: trigger.component.clone(),
        subject: subject.into(),
        group: config.group,
    };
    Ok((subscription, warnings))
}

struct NatsTrigger {
    server: NatsServer,
    subscriptions: Vec<Subscription>,
}

#[async_trait::async_trait]
impl Trigger for NatsTrigger {
    fn components(&self) -> Vec<&str> {
        self.subscriptions
            .iter()
            .map(|s| s.component.as_str())
            .collect()
    }

    /// As many per subscription as its component runs at once.
    fn instances_needed(&self, limits: &dyn Fn(&str) -> ComponentLimits) -> u32 {
        self.subscriptions
            .iter()
            .map(|s| limits(&s.component).instances_needed())
            .fold(0, u32::saturating_add)
    }

    async fn start(
        self: Box<Self>,
        _app: &LoadedApp,
        components: &AppComponents,
        host: &TriggerHost,
    ) -> anyhow::Result<Started> {
        let handlers = components.get_each::<NatsExport>(self.components())?;
        let client = self.server.connect("NATS trigger").await.map_err(|e| {
            anyhow::anyhow!(
                "nats trigger: {e}: start the server, or set url under [application.trigger.nats]"
            )
        })?;
        let mut summary = Vec::new();
        let mut tasks = Vec::new();
        for subscription in self.subscriptions {
            let subject = subscription.subject.to_string();
            let subscribed = match &subscription.group {
                Some(group) => client.queue_subscribe(subject, group.clone()).await,
                None => client.subscribe(subject).await,
            };
            let messages = subscribed.map_err(|e| {
                anyhow::anyhow!(
                    "component \"{}\": cannot subscribe to NATS subject \"{}\": {e}",
                    subscription.component,
                    subscription.subject
                )
            })?;
            let group = match &subscription.group {
                Some(group) => format!(" (queue group \"{group}\")"),
                None => String::new(),
            };
            summary.push(format!(
                "Subscribed to NATS subject \"{}\"{group} for component {}",
                subscription.subject, subscription.component
            ));
            let component = handlers[&subscription.component].clone();
            let shutdown = host.shutdown.clone();
            tasks.push(tokio::spawn(deliver(
                messages,
                component,
                subscription.subject,
                shutdown,
            )));
        }
        // The server has every subscription when this returns: no message published after
        // the app says it is up is missed.
        client.flush().await.map_err(|e| {
            anyhow::anyhow!("nats trigger: subscribing at {}: {e}", self.server.url())
        })?;
        let running = async move {
            for task in tasks {
                let _ = task.await;
            }
            drop(client);
            Ok(None)
        };
        Ok(Started {
            summary,
            running: Box::pin(running),
        })
    }
}

/// Hands each message of `messages` to `component` until `shutdown`, then unsubscribes and
/// waits for those in flight.
async fn deliver(
    mut messages: async_nats::Subscriber,
    component: Component<NatsExport>,
    subject: Arc<str>,
    shutdown: CancellationToken,
) {
    let dispatch = Dispatch::new(component.limits().max_concurrent());
    loop {
        let message = tokio::select! {
            message = messages.next() => message,
            () = shutdown.cancelled() => break,
        };
        let Some(message) = message else { break };
        let (component, subject) = (component.clone(), subject.clone());
        dispatch
            .spawn(async move {
                // A failed message is logged and counted by the component; the next one runs.
                let _ = handle(&component, message, &subject).await;
            })
            .await;
    }
    let _ = messages.unsubscribe().await;
    dispatch.finish().await;
}

/// A component's `wasmcloud:messaging/handler`, type-checked at load.
pub struct NatsExport(NatsHandlerPre<StoreState>);

impl Export for NatsExport {
    const TRIGGER: &'static str = TYPE;

    fn new(recipe: &InstanceRecipe, pre: InstancePre<StoreState>) -> Result<Self, LoadError> {
        NatsHandlerPre::new(pre).map(Self).map_err(|_| {
            recipe.missing_export(
                "wasmcloud:messaging/handler@0.2.0 (handle-message)",
                "a messaging handler, as wasmCloud components export it",
            )
        })
    }
}

/// Runs `component`'s handler on `message`, which arrived on the subscription to `subject`,
/// in a fresh instance under the component's limits.
async fn handle(
    component: &Component<NatsExport>,
    message: async_nats::Message,
    subject: &Arc<str>,
) -> Result<(), FailureKind> {
    let message = BrokerMessage {
        subject: message.subject.to_string(),
        body: message.payload.to_vec(),
        reply_to: message.reply.map(|r| r.to_string()),
    };
    component
        .call("NATS message", subject, async |export, store| {
            let handler = export.0.instantiate_async(&mut *store).await?;
            store.data_mut().instantiated();
            handler
                .wasmcloud_messaging_handler()
                .call_handle_message(&mut *store, &message)
                .await?
                .map_err(guest_answered)
        })
        .await
}
