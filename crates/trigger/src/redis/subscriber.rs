//! Subscriptions: each `[[trigger.redis]]` channel's messages go to its component, each in a
//! fresh instance, one at a time and in the order published (as Spin does); a failing message
//! is logged and the next one runs. When the server goes away the subscription is
//! re-established, with backoff, for as long as kiln runs.

use std::time::Duration;

use std::sync::Arc;

use futures::StreamExt;
use kiln_runtime::Component;
use redis::aio::PubSub;
use tokio::task::JoinHandle;

use super::export::RedisExport;

/// A Redis trigger, ready to subscribe: its address rendered, its component loaded.
#[derive(Clone)]
pub(super) struct Subscription {
    /// The server, `redis://host:port`.
    pub(super) address: String,
    /// The channel.
    pub(super) channel: Arc<str>,
    /// The component each message goes to.
    pub(super) handler: Component<RedisExport>,
}

/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Subscribes to every channel now (so no message published after this returns is missed),
/// then keeps each subscription alive in a task of its own.
pub(super) async fn subscribe_all(
    subscriptions: &[Subscription],
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let mut tasks = Vec::new();
    for subscription in subscriptions {
        let pubsub = subscribe(subscription).await.map_err(|e| {
            anyhow::anyhow!(
                "component \"{}\": cannot subscribe to Redis channel \"{}\" at {}: {e}",
                subscription.handler.id(),
                subscription.channel,
                subscription.address
            )
        })?;
        tasks.push(tokio::spawn(run(subscription.clone(), pubsub)));
    }
    Ok(tasks)
}

async fn subscribe(subscription: &Subscription) -> redis::RedisResult<PubSub> {
    let client = redis::Client::open(subscription.address.as_str())?;
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(&*subscription.channel).await?;
    Ok(pubsub)
}

/// Delivers messages until the connection drops, then resubscribes; never returns.
async fn run(subscription: Subscription, mut pubsub: PubSub) {
    let component_id = subscription.handler.id().to_string();
    loop {
        let mut messages = pubsub.into_on_message();
        while let Some(message) = messages.next().await {
            let payload = message.get_payload_bytes().to_vec();
            // A failed message is logged and counted by the handler; the next one runs.
            let _ =
                super::export::handle(&subscription.handler, payload, &subscription.channel).await;
        }
        drop(messages);
        tracing::warn!(
            %component_id,
            "lost the Redis connection to {} (channel \"{}\"); reconnecting",
            subscription.address,
            subscription.channel
        );
        pubsub = resubscribe(&subscription).await;
        tracing::info!(
            %component_id,
            "resubscribed to Redis channel \"{}\" at {}",
            subscription.channel,
            subscription.address
        );
    }
}

/// Tries to subscribe again until it works, waiting longer after each failure.
async fn resubscribe(subscription: &Subscription) -> PubSub {
    let mut backoff = Duration::from_millis(100);
    loop {
        match subscribe(subscription).await {
            Ok(pubsub) => return pubsub,
            Err(e) => tracing::debug!("resubscribing to {} failed: {e}", subscription.address),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
