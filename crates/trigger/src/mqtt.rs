//! The MQTT trigger, compatible with the spin-trigger-mqtt plugin: `[[trigger.mqtt]]` with
//! `topic` (MQTT wildcards `+` and `#` allowed) and `qos` (0, 1 or 2), on the broker named by
//! `[application.trigger.mqtt]` (`address`, `username`, `password`, `keep_alive_interval` in
//! seconds); the address, credentials and topic may use `{{ variable }}`. Each message calls
//! the component's `handle-message` export (the plugin's `spin-mqtt` world) in a fresh
//! instance, up to its `max_concurrent` at once ([`Dispatch`]).
//!
//! Each entry has a session of its own. When the broker goes away the session connects again,
//! with back-off, and subscribes again, for as long as kiln runs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kiln_manifest::{AppSpec, ManifestError, TriggerSpec};
use kiln_runtime::{
    AppComponents, Component, ComponentLimits, Export, FailureKind, InstanceRecipe, LoadError,
    LoadedApp, StoreState,
};
use kiln_world::mqtt_handler::spin::mqtt_trigger::spin_mqtt_types::Metadata;
use kiln_world::mqtt_handler::MqttHandlerPre;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use wasmtime::component::InstancePre;

use crate::dispatch::Dispatch;
use crate::trigger::guest_answered;
use crate::{Configured, Started, Trigger, TriggerHost, TriggerType};

/// The trigger type, as in `[[trigger.mqtt]]`.
pub const TYPE: &str = "mqtt";

/// `[[trigger.mqtt]]`: messages on MQTT topics.
pub const TRIGGER: TriggerType = TriggerType {
    name: TYPE,
    configure,
};

/// How long connecting and subscribing may take at start.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Largest message MQTT allows (its remaining-length limit).
const MQTT_MAX_PACKET: u64 = 268_435_455;

/// A number the plugin's manifests write as a string (`qos = "1"`) and others as a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Number {
    Text(String),
    Value(u64),
}

impl Number {
    fn value(&self) -> Option<u64> {
        match self {
            Self::Text(text) => text.trim().parse().ok(),
            Self::Value(value) => Some(*value),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMqttSettings {
    address: Option<String>,
    username: Option<String>,
    password: Option<String>,
    keep_alive_interval: Option<Number>,
}

#[derive(Deserialize)]
struct RawMqttTrigger {
    topic: Option<String>,
    qos: Option<Number>,
}

/// The broker, as written (templates not yet rendered).
struct Broker {
    address: String,
    username: String,
    password: String,
    keep_alive: Duration,
}

/// One `[[trigger.mqtt]]` entry.
struct Subscription {
    component: String,
    /// May hold `{{ variable }}` templates.
    topic: String,
    qos: QoS,
}

fn configure(app: &AppSpec) -> Result<Configured, ManifestError> {
    let settings: RawMqttSettings = app.trigger_settings(TYPE)?;
    let settings_keys = ["application", "trigger", TYPE].map(kiln_manifest::Key::from);
    let keep_alive = match &settings.keep_alive_interval {
        None => 30,
        Some(interval) => interval.value().ok_or_else(|| {
            app.error_at(
                &settings_keys,
                "keep_alive_interval must be a whole number of seconds, such as \"30\"",
            )
        })?,
    };
    let (subscriptions, warnings) =
        app.read_triggers(TYPE, |trigger| subscription(app, trigger))?;
    let Some(address) = settings.address else {
        let first = app.triggers_of(TYPE).next().map(|t| t.keys(None));
        return Err(app.error_at(
            &first.unwrap_or_else(|| settings_keys.to_vec()),
            "mqtt trigger has no broker: add address = \"mqtt://127.0.0.1:1883\" under [application.trigger.mqtt]",
        ));
    };
    let broker = Broker {
        address,
        username: settings.username.unwrap_or_default(),
        password: settings.password.unwrap_or_default(),
        keep_alive: Duration::from_secs(keep_alive),
    };
    Ok(Configured {
        trigger: Box::new(MqttTrigger {
            broker,
            subscriptions,
        }),
        warnings,
    })
}

fn subscription(
    app: &AppSpec,
    trigger: &TriggerSpec,
) -> Result<(Subscription, Vec<String>), ManifestError> {
    let (config, warnings) = trigger.config::<RawMqttTrigger>(app)?;
    let Some(topic) = config.topic.filter(|t| !t.is_empty()) else {
        return Err(app.error_at(
            &trigger.keys(None),
            "mqtt trigger has no topic: add topic = \"sensors/+/temperature\" (wildcards + and # allowed)",
        ));
    };
    let qos =
        match config.qos.as_ref().map(Number::value) {
            None => QoS::AtMostOnce,
            Some(Some(0)) => QoS::AtMostOnce,
            Some(Some(1)) => QoS::AtLeastOnce,
            Some(Some(2)) => QoS::ExactlyOnce,
            Some(_) => return Err(app.error_at(
                &trigger.keys(Some("qos")),
                "qos must be \"0\" (at most once), \"1\" (at least once) or \"2\" (exactly once)",
            )),
        };
    let subscription = Subscription {
        component: trigger.component.clone(),
        topic,
        qos,
    };
    Ok((subscription, warnings))
}

struct MqttTrigger {
    broker: Broker,
    subscriptions: Vec<Subscription>,
}

#[async_trait::async_trait]
impl Trigger for MqttTrigger {
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
        app: &LoadedApp,
        components: &AppComponents,
        host: &TriggerHost,
    ) -> anyhow::Result<Started> {
        let handlers = components.get_each::<MqttExport>(self.components())?;
        let render = |what: &str, template: &str| {
            app.render(template)
                .map_err(|e| anyhow::anyhow!("mqtt trigger {what} \"{template}\": {e:#}"))
        };
        let address = render("address", &self.broker.address)?;
        let username = render("username", &self.broker.username)?;
        let password = render("password", &self.broker.password)?;
        let mut summary = Vec::new();
        let mut tasks = Vec::new();
        for subscription in &self.subscriptions {
            let component = handlers[&subscription.component].clone();
            let session = Session {
                topic: render("topic", &subscription.topic)?.into(),
                qos: subscription.qos,
                address: address.clone().into(),
                component,
            };
            let mut options = session.options(&address)?;
            options.set_keep_alive(self.broker.keep_alive);
            if !username.is_empty() {
                options.set_credentials(username.clone(), password.clone());
            }
            let (client, mut events) = AsyncClient::new(options, 16);
            session.subscribe(&client, &mut events).await?;
            summary.push(format!(
                "Subscribed to MQTT topic \"{}\" at {} for component {}",
                session.topic,
                session.address,
                session.component.id()
            ));
            tasks.push(tokio::spawn(session.run(
                client,
                events,
                host.shutdown.clone(),
            )));
        }
        let running = async move {
            for task in tasks {
                let _ = task.await;
            }
            Ok(None)
        };
        Ok(Started {
            summary,
            running: Box::pin(running),
        })
    }
}

/// One subscription's session with the broker, its templates rendered.
struct Session {
    address: Arc<str>,
    topic: Arc<str>,
    qos: QoS,
    component: Component<MqttExport>,
}

impl Session {
    /// The client options for `address` (`mqtt://host[:port]`, `mqtts://` for TLS).
    fn options(&self, address: &str) -> anyhow::Result<MqttOptions> {
        static NEXT_CLIENT: AtomicU64 = AtomicU64::new(0);
        let client_id = format!(
            "kiln-trigger-{}-{}",
            std::process::id(),
            NEXT_CLIENT.fetch_add(1, Ordering::Relaxed)
        );
        let mut options =
            kiln_runtime::network::mqtt::broker_options(address, client_id).map_err(|why| {
                anyhow::anyhow!("mqtt trigger: {why} (under [application.trigger.mqtt] address)")
            })?;
        let most = self
            .component
            .limits()
            .max_request_body
            .min(MQTT_MAX_PACKET);
        let most = usize::try_from(most).unwrap_or(usize::MAX);
        options.set_max_packet_size(most, most);
        Ok(options)
    }

    /// Connects and subscribes, and waits for the broker to confirm both.
    async fn subscribe(&self, client: &AsyncClient, events: &mut EventLoop) -> anyhow::Result<()> {
        let id = self.component.id();
        let confirmed = tokio::time::timeout(START_TIMEOUT, async {
            loop {
                match events.poll().await? {
                    Event::Incoming(Packet::ConnAck(_)) => {
                        client.try_subscribe(&*self.topic, self.qos)?;
                    }
                    Event::Incoming(Packet::SubAck(ack)) => {
                        return match ack.return_codes.first() {
                            Some(rumqttc::SubscribeReasonCode::Failure) => {
                                Err(anyhow::anyhow!("the broker refused the subscription"))
                            }
                            _ => Ok(()),
                        };
                    }
                    _ => {}
                }
            }
        })
        .await;
        let failed = |e: &dyn std::fmt::Display| {
            anyhow::anyhow!(
                "component \"{id}\": cannot subscribe to MQTT topic \"{}\" at {}: {e}: start the broker, or set address under [application.trigger.mqtt]",
                self.topic,
                self.address
            )
        };
        match confirmed {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(failed(&e)),
            Err(_) => Err(failed(&format_args!("no answer in {START_TIMEOUT:?}"))),
        }
    }

    /// Delivers messages until `shutdown`, connecting and subscribing again whenever the
    /// broker goes away; then waits for the messages in flight.
    async fn run(self, client: AsyncClient, mut events: EventLoop, shutdown: CancellationToken) {
        let dispatch = Dispatch::new(self.component.limits().max_concurrent());
        let component_id = self.component.id().to_string();
        let mut backoff = Duration::from_millis(100);
        let mut connected = true;
        loop {
            let event = tokio::select! {
                event = events.poll() => event,
                () = shutdown.cancelled() => break,
            };
            match event {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    tracing::info!(%component_id, "reconnected to MQTT at {}; subscribing to \"{}\" again", self.address, self.topic);
                    connected = true;
                    backoff = Duration::from_millis(100);
                    if let Err(e) = client.try_subscribe(&*self.topic, self.qos) {
                        tracing::warn!(%component_id, "subscribing to MQTT topic \"{}\" again: {e}", self.topic);
                    }
                }
                Ok(Event::Incoming(Packet::Publish(message))) => {
                    let component = self.component.clone();
                    let topic = self.topic.clone();
                    dispatch
                        .spawn(async move {
                            // A failed message is logged and counted by the component.
                            let _ = handle(&component, message, &topic).await;
                        })
                        .await;
                }
                Ok(_) => {}
                Err(e) => {
                    if connected {
                        tracing::warn!(%component_id, "lost the MQTT connection to {} (topic \"{}\"): {e}; reconnecting", self.address, self.topic);
                        connected = false;
                    } else {
                        tracing::debug!(%component_id, "reconnecting to MQTT at {}: {e}", self.address);
                    }
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        () = shutdown.cancelled() => break,
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
        let _ = client.try_disconnect();
        dispatch.finish().await;
    }
}

/// A component's `handle-message` (the spin-trigger-mqtt plugin's world), type-checked at
/// load.
pub struct MqttExport(MqttHandlerPre<StoreState>);

impl Export for MqttExport {
    const TRIGGER: &'static str = TYPE;

    fn new(recipe: &InstanceRecipe, pre: InstancePre<StoreState>) -> Result<Self, LoadError> {
        MqttHandlerPre::new(pre).map(Self).map_err(|_| {
            recipe.missing_export(
                "handle-message (spin:mqtt-trigger)",
                "an MQTT component (#[mqtt_component] in spin-mqtt-sdk)",
            )
        })
    }
}

/// Runs `component`'s handler on `message`, which arrived on the subscription to `topic`, in
/// a fresh instance under the component's limits.
async fn handle(
    component: &Component<MqttExport>,
    message: rumqttc::Publish,
    topic: &Arc<str>,
) -> Result<(), FailureKind> {
    let metadata = Metadata {
        topic: message.topic,
    };
    let payload = message.payload.to_vec();
    component
        .call("MQTT message", topic, async |export, store| {
            let handler = export.0.instantiate_async(&mut *store).await?;
            store.data_mut().instantiated();
            handler
                .call_handle_message(&mut *store, &payload, &metadata)
                .await?
                .map_err(guest_answered)
        })
        .await
}
