//! Key-value stores in a NATS JetStream key-value bucket (`type = "nats"` in a runtime
//! config): each key of the store is a key of the bucket, its value the entry's value.
//!
//! NATS keys allow only `[-/_=.a-zA-Z0-9]` and no empty `.`-separated token, while a
//! component may use any string; other bytes are written as `=XX` (hex), so keys of plain
//! names stay readable to other NATS tools (`nats kv get`).

use std::sync::Arc;

use anyhow::Context as _;
use async_nats::jetstream::{self, kv, stream};
use async_trait::async_trait;
use futures::TryStreamExt as _;
use tokio::sync::OnceCell;

use crate::key_value::{add_to_counter, parse_counter, KeyValueStore};

/// One key-value store: the bucket `bucket` on the NATS server at `url`.
pub struct NatsKeyValue {
    url: String,
    bucket: String,
    store: OnceCell<kv::Store>,
}

impl NatsKeyValue {
    /// The bucket `bucket` at `url` (`nats://host:port`); connects, and creates the bucket if
    /// it is missing, on first use.
    pub fn open(url: &str, bucket: &str) -> anyhow::Result<Arc<dyn KeyValueStore>> {
        anyhow::ensure!(
            !bucket.is_empty()
                && bucket
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
            "invalid NATS bucket name {bucket:?}: use letters, digits, `_` and `-`"
        );
        Ok(Arc::new(Self {
            url: url.to_string(),
            bucket: bucket.to_string(),
            store: OnceCell::new(),
        }))
    }

    async fn store(&self) -> anyhow::Result<&kv::Store> {
        self.store
            .get_or_try_init(|| async {
                let client = async_nats::ConnectOptions::new()
                    .connection_timeout(std::time::Duration::from_secs(2))
                    .connect(&self.url)
                    .await
                    .with_context(|| format!("cannot connect to NATS at {}", self.url))?;
                let context = jetstream::new(client);
                open_bucket(&context, &BucketSettings::named(&self.bucket))
                    .await
                    .with_context(|| format!("NATS key-value bucket {:?}", self.bucket))
            })
            .await
    }

    /// The live entry under `key`: its value and revision (`None`: absent; a delete marker's
    /// revision is kept so a write can build on it).
    async fn entry(&self, key: &str) -> anyhow::Result<(Option<kv::Entry>, Option<u64>)> {
        let entry = self.store().await?.entry(encode_key(key)?).await?;
        Ok(match entry {
            Some(entry) if entry.operation == kv::Operation::Put => {
                let revision = entry.revision;
                (Some(entry), Some(revision))
            }
            Some(marker) => (None, Some(marker.revision)),
            None => (None, None),
        })
    }

    /// Writes `value` under `key` only if the key's last revision is still `revision`
    /// (`None`: the key was never written); whether it was written.
    async fn write_if_unchanged(
        &self,
        key: &str,
        revision: Option<u64>,
        value: Vec<u8>,
    ) -> anyhow::Result<bool> {
        let store = self.store().await?;
        let key = encode_key(key)?;
        let result = match revision {
            Some(revision) => store.update(key, value.into(), revision).await,
            None => match store.create(key, value.into()).await {
                Ok(revision) => Ok(revision),
                Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => return Ok(false),
                Err(e) => return Err(e.into()),
            },
        };
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// How a key-value bucket is made when it does not exist yet.
#[derive(Debug, Clone)]
pub struct BucketSettings {
    /// The bucket's name.
    pub name: String,
    /// Values kept per key (1: the last only).
    pub history: i64,
    /// How long a value is kept after it is written (zero: for ever).
    pub max_age: std::time::Duration,
}

impl BucketSettings {
    /// A bucket that keeps each key's last value for ever.
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_string(),
            history: 1,
            max_age: std::time::Duration::ZERO,
        }
    }
}

/// The bucket's store, creating the bucket as `settings` say when it does not exist. The
/// stream is created directly (as `create_key_value` would configure it) so that servers older
/// than 2.10, whose account info the client cannot read, work too.
pub async fn open_bucket(
    context: &jetstream::Context,
    settings: &BucketSettings,
) -> anyhow::Result<kv::Store> {
    let bucket = &settings.name;
    if let Ok(store) = context.get_key_value(bucket).await {
        return Ok(store);
    }
    context
        .get_or_create_stream(stream::Config {
            name: format!("KV_{bucket}"),
            subjects: vec![format!("$KV.{bucket}.>")],
            max_messages_per_subject: settings.history,
            max_age: settings.max_age,
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            discard: stream::DiscardPolicy::New,
            num_replicas: 1,
            ..Default::default()
        })
        .await?;
    Ok(context.get_key_value(bucket).await?)
}

#[async_trait]
impl KeyValueStore for NatsKeyValue {
    async fn get(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let value = self.store().await?.get(encode_key(key)?).await?;
        Ok(value.map(|bytes| bytes.to_vec()))
    }

    async fn set(&self, key: &str, value: &[u8]) -> anyhow::Result<()> {
        let store = self.store().await?;
        store.put(encode_key(key)?, value.to_vec().into()).await?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        // A delete marker for a key that holds none replaces nothing (one message per key).
        self.store().await?.delete(encode_key(key)?).await?;
        Ok(())
    }

    async fn exists(&self, key: &str) -> anyhow::Result<bool> {
        Ok(self.entry(key).await?.0.is_some())
    }

    async fn get_keys(&self) -> anyhow::Result<Vec<String>> {
        let keys: Vec<String> = self.store().await?.keys().await?.try_collect().await?;
        keys.iter().map(|key| decode_key(key)).collect()
    }

    async fn increment(&self, key: &str, delta: i64) -> anyhow::Result<i64> {
        loop {
            let (entry, revision) = self.entry(key).await?;
            let current = entry.map(|e| parse_counter(&e.value)).transpose()?;
            let new = add_to_counter(current.unwrap_or(0), delta)?;
            if self
                .write_if_unchanged(key, revision, new.to_string().into_bytes())
                .await?
            {
                return Ok(new);
            }
        }
    }

    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> anyhow::Result<bool> {
        let (entry, revision) = self.entry(key).await?;
        if entry.as_ref().map(|e| &e.value[..]) != expected {
            return Ok(false);
        }
        self.write_if_unchanged(key, revision, new.to_vec()).await
    }
}

/// `key` as a NATS key: bytes outside `[-/_.a-zA-Z0-9]`, `=` itself, and a `.` that would
/// start, end or empty a token are written as `=XX`.
fn encode_key(key: &str) -> anyhow::Result<String> {
    anyhow::ensure!(
        !key.is_empty(),
        "a NATS key-value store cannot hold an empty key"
    );
    let bytes = key.as_bytes();
    let mut encoded = String::with_capacity(key.len());
    for (i, &byte) in bytes.iter().enumerate() {
        let plain = match byte {
            b'.' => i > 0 && i + 1 < bytes.len() && bytes[i - 1] != b'.' && bytes[i + 1] != b'.',
            b'-' | b'/' | b'_' => true,
            _ => byte.is_ascii_alphanumeric(),
        };
        if plain {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("={byte:02X}"));
        }
    }
    Ok(encoded)
}

/// The component's key behind a NATS key written by [`encode_key`].
fn decode_key(encoded: &str) -> anyhow::Result<String> {
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut rest = encoded.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'=' {
            let hex = tail
                .get(..2)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .with_context(|| format!("NATS key {encoded:?} was not written by kiln"))?;
            bytes.push(hex);
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(bytes).with_context(|| format!("NATS key {encoded:?} is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_plain_names_stay_readable() {
        for (key, nats) in [
            ("user.42", "user.42"),
            ("a/b_c-d", "a/b_c-d"),
            ("kiln:x y", "kiln=3Ax=20y"),
            (".a..b.", "=2Ea=2E=2Eb=2E"),
            ("é=", "=C3=A9=3D"),
        ] {
            assert_eq!(encode_key(key).unwrap(), nats);
            assert_eq!(decode_key(nats).unwrap(), key);
        }
        assert!(encode_key("").is_err());
        assert!(decode_key("=Z").is_err());
    }

    /// Needs the NATS server with JetStream on 127.0.0.1:4222 (`scripts/services.sh` starts
    /// one); uses the bucket `kiln-state-test`.
    #[tokio::test]
    async fn nats_stores_keep_the_contract() {
        let store = NatsKeyValue::open("nats://127.0.0.1:4222", "kiln-state-test").unwrap();
        crate::key_value::contract::check(store, "kiln-state-test:").await;
    }

    #[tokio::test]
    async fn an_unreachable_server_is_an_error_not_a_hang() {
        let store = NatsKeyValue::open("nats://127.0.0.1:1", "b").unwrap();
        assert!(store.get("k").await.is_err());
    }
}
