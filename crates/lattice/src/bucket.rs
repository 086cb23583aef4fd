//! Reading a whole key-value bucket: every live key's value, parsed, with its revision.

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::jetstream::kv;
use futures::TryStreamExt as _;
use serde::de::DeserializeOwned;

/// The longest a read of a whole bucket may take.
const READ_TIMEOUT: Duration = Duration::from_secs(2);

/// A bucket's entries by key: each value read, or why it does not read.
pub type Entries<T> = BTreeMap<String, Result<Stored<T>, String>>;

/// A value read from a bucket, with its revision and the time NATS stored it.
#[derive(Debug, Clone)]
pub struct Stored<T> {
    /// The value.
    pub value: T,
    /// Its revision: a compare-and-set writes over exactly this one.
    pub revision: u64,
    /// When NATS stored it.
    pub stored_at: std::time::SystemTime,
}

/// The live entries of `store`, each parsed from JSON. The keys come from the stream's
/// subjects (one request, no consumer to set up), each value from a direct get; the whole
/// read gives up after [`READ_TIMEOUT`] so that a NATS outage never stalls a host.
pub(crate) async fn entries<T: DeserializeOwned>(store: &kv::Store) -> anyhow::Result<Entries<T>> {
    tokio::time::timeout(READ_TIMEOUT, read_entries(store))
        .await
        .map_err(|_| anyhow::anyhow!("reading the bucket {} timed out", store.name))?
}

async fn read_entries<T: DeserializeOwned>(store: &kv::Store) -> anyhow::Result<Entries<T>> {
    let subjects: Vec<(String, usize)> = store
        .stream
        .info_with_subjects(format!("{}>", store.prefix))
        .await?
        .try_collect()
        .await?;
    let mut read = BTreeMap::new();
    for (subject, _) in subjects {
        let Some(key) = subject.strip_prefix(&store.prefix) else {
            continue;
        };
        let Some(entry) = store.entry(key).await? else {
            continue;
        };
        if entry.operation != kv::Operation::Put {
            continue;
        }
        let value = serde_json::from_slice(&entry.value)
            .map(|value| Stored {
                value,
                revision: entry.revision,
                stored_at: entry.created.into(),
            })
            .map_err(|e| format!("{key}: not a valid entry ({e})"));
        read.insert(key.to_string(), value);
    }
    Ok(read)
}
