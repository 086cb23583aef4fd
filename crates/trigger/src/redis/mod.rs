//! The Redis trigger: `[[trigger.redis]]` (`channel`, and `address` or
//! `[application.trigger.redis] address`, which may use `{{ variable }}`) subscribes to a
//! Redis channel; each message calls the component's `inbound-redis` export ([`export`]) in a
//! fresh instance, one at a time and in the order published ([`subscriber`]).

mod export;
mod subscriber;

use std::sync::Arc;

use kiln_manifest::{AppSpec, ManifestError, TriggerSpec};
use kiln_runtime::{AppComponents, ComponentLimits, LoadedApp};
use serde::Deserialize;

pub use export::RedisExport;

use crate::{Configured, Started, Trigger, TriggerHost, TriggerType};

/// The trigger type, as in `[[trigger.redis]]`.
pub const TYPE: &str = "redis";

/// `[[trigger.redis]]`: messages on Redis channels.
pub const TRIGGER: TriggerType = TriggerType {
    name: TYPE,
    configure,
};

/// One `[[trigger.redis]]` entry.
struct Channel {
    component: String,
    /// The server (`redis://host:port`); may hold `{{ variable }}` templates.
    address: String,
    channel: String,
}

#[derive(Deserialize)]
struct RawRedisTrigger {
    channel: Option<String>,
    address: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawRedisSettings {
    address: Option<String>,
}

fn configure(app: &AppSpec) -> Result<Configured, ManifestError> {
    let settings: RawRedisSettings = app.trigger_settings(TYPE)?;
    let address = settings.address.as_deref();
    let (channels, warnings) = app.read_triggers(TYPE, |trigger| channel(app, trigger, address))?;
    Ok(Configured {
        trigger: Box::new(RedisTrigger { channels }),
        warnings,
    })
}

fn channel(
    app: &AppSpec,
    trigger: &TriggerSpec,
    app_address: Option<&str>,
) -> Result<(Channel, Vec<String>), ManifestError> {
    let (config, warnings) = trigger.config::<RawRedisTrigger>(app)?;
    let Some(channel) = config.channel.filter(|c| !c.is_empty()) else {
        return Err(app.error_at(
            &trigger.keys(None),
            "redis trigger has no channel: add channel = \"NAME\"",
        ));
    };
    let Some(address) = config.address.as_deref().or(app_address) else {
        return Err(app.error_at(
            &trigger.keys(None),
            "redis trigger has no address: add address = \"redis://127.0.0.1:6379\" here or under [application.trigger.redis]",
        ));
    };
    let channel = Channel {
        component: trigger.component.clone(),
        address: address.to_string(),
        channel,
    };
    Ok((channel, warnings))
}

struct RedisTrigger {
    channels: Vec<Channel>,
}

#[async_trait::async_trait]
impl Trigger for RedisTrigger {
    fn components(&self) -> Vec<&str> {
        self.channels.iter().map(|c| c.component.as_str()).collect()
    }

    /// One per channel: its messages run one at a time.
    fn instances_needed(&self, _limits: &dyn Fn(&str) -> ComponentLimits) -> u32 {
        u32::try_from(self.channels.len()).unwrap_or(u32::MAX)
    }

    async fn start(
        self: Box<Self>,
        app: &LoadedApp,
        components: &AppComponents,
        host: &TriggerHost,
    ) -> anyhow::Result<Started> {
        let handlers = components.get_each::<RedisExport>(self.components())?;
        let mut subscriptions = Vec::new();
        for channel in &self.channels {
            let id = channel.component.as_str();
            let address = app.render(&channel.address).map_err(|e| {
                anyhow::anyhow!(
                    "component \"{id}\": redis trigger address \"{}\": {e:#}",
                    channel.address
                )
            })?;
            subscriptions.push(subscriber::Subscription {
                address,
                channel: Arc::from(channel.channel.as_str()),
                handler: handlers[id].clone(),
            });
        }
        let tasks = subscriber::subscribe_all(&subscriptions).await?;
        let summary = subscriptions
            .iter()
            .map(|s| {
                format!(
                    "Subscribed to Redis channel \"{}\" for component {}",
                    s.channel,
                    s.handler.id()
                )
            })
            .collect();
        let shutdown = host.shutdown.clone();
        let running = async move {
            shutdown.cancelled().await;
            for task in tasks {
                task.abort();
            }
            Ok(None)
        };
        Ok(Started {
            summary,
            running: Box::pin(running),
        })
    }
}
