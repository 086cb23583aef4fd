//! Key-value stores on a Redis server (`type = "redis"` in a runtime config), as Spin keeps
//! them: each key of the store is a Redis key of the same name, its value a Redis string.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{FromRedisValue, Script};

use crate::key_value::{parse_counter, KeyValueStore};

/// How kiln's Redis connections behave: a caller waits at most a few seconds for an
/// unreachable server, and a broken connection is re-established in the background.
pub fn redis_connection_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_number_of_retries(1)
        .set_min_delay(Duration::from_millis(100))
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(30)))
}

/// Replaces KEYS[1] with ARGV[2] if it still holds ARGV[1] (or, when ARGV[3] is "absent",
/// if it does not exist); 1 when replaced.
const COMPARE_AND_SWAP: &str = r#"
local current = redis.call('GET', KEYS[1])
local matches
if ARGV[3] == 'absent' then matches = (current == false) else matches = (current == ARGV[1]) end
if matches then redis.call('SET', KEYS[1], ARGV[2]) return 1 end
return 0
"#;

/// One key-value store on the Redis server at a URL.
pub struct RedisKeyValue {
    connection: ConnectionManager,
    swap: Script,
}

impl RedisKeyValue {
    /// The store at `url` (`redis://host:port/db`); connects on first use.
    pub fn open(url: &str) -> anyhow::Result<Arc<dyn KeyValueStore>> {
        let client =
            redis::Client::open(url).with_context(|| format!("invalid Redis URL {url}"))?;
        let connection =
            ConnectionManager::new_lazy_with_config(client, redis_connection_config())?;
        Ok(Arc::new(Self {
            connection,
            swap: Script::new(COMPARE_AND_SWAP),
        }))
    }

    /// Runs `command`, once more if the connection was found broken (the server restarted and
    /// the connection has just been re-established).
    async fn run<T: FromRedisValue>(&self, command: &mut redis::Cmd) -> anyhow::Result<T> {
        let mut connection = self.connection.clone();
        match command.query_async(&mut connection).await {
            Err(e) if e.is_connection_dropped() => Ok(command.query_async(&mut connection).await?),
            result => Ok(result?),
        }
    }
}

#[async_trait]
impl KeyValueStore for RedisKeyValue {
    async fn get(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        self.run(redis::cmd("GET").arg(key)).await
    }

    async fn set(&self, key: &str, value: &[u8]) -> anyhow::Result<()> {
        self.run(redis::cmd("SET").arg(key).arg(value)).await
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        self.run::<i64>(redis::cmd("DEL").arg(key)).await?;
        Ok(())
    }

    async fn exists(&self, key: &str) -> anyhow::Result<bool> {
        self.run(redis::cmd("EXISTS").arg(key)).await
    }

    async fn get_keys(&self) -> anyhow::Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut cursor = 0u64;
        loop {
            let (next, page): (u64, Vec<String>) = self
                .run(redis::cmd("SCAN").arg(cursor).arg("COUNT").arg(1000))
                .await?;
            keys.extend(page);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        keys.sort();
        keys.dedup();
        Ok(keys)
    }

    async fn increment(&self, key: &str, delta: i64) -> anyhow::Result<i64> {
        let result = self.run(redis::cmd("INCRBY").arg(key).arg(delta)).await;
        if result.is_err() {
            // Say why the way the embedded store does when the value is not a number.
            if let Some(value) = self.get(key).await? {
                parse_counter(&value)?;
            }
        }
        result
    }

    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> anyhow::Result<bool> {
        let mut connection = self.connection.clone();
        let mut invocation = self.swap.key(key);
        invocation
            .arg(expected.unwrap_or_default())
            .arg(new)
            .arg(if expected.is_some() {
                "present"
            } else {
                "absent"
            });
        let replaced: i64 = invocation.invoke_async(&mut connection).await?;
        Ok(replaced == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Needs the Redis server on 127.0.0.1:6379 (`scripts/services.sh` starts one); uses
    /// database 15 and keys under `kiln-state-test:`.
    #[tokio::test]
    async fn redis_stores_keep_the_contract() {
        let store = RedisKeyValue::open("redis://127.0.0.1:6379/15").unwrap();
        crate::key_value::contract::check(store, "kiln-state-test:").await;
    }

    #[tokio::test]
    async fn an_unreachable_server_is_an_error_not_a_hang() {
        let store = RedisKeyValue::open("redis://127.0.0.1:1").unwrap();
        assert!(store.get("k").await.is_err());
    }
}
