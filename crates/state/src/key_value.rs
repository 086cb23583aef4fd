//! Key-value stores.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::sqlite_file::SharedConnection;

/// One named key-value store. Errors are backend failures (the guest sees their message).
#[async_trait]
pub trait KeyValueStore: Send + Sync {
    /// The value under `key`, if any.
    async fn get(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>>;
    /// Stores `value` under `key`, replacing what was there.
    async fn set(&self, key: &str, value: &[u8]) -> anyhow::Result<()>;
    /// Removes `key`; removing a missing key is not an error.
    async fn delete(&self, key: &str) -> anyhow::Result<()>;
    /// Whether `key` has a value.
    async fn exists(&self, key: &str) -> anyhow::Result<bool>;
    /// Every key, in no particular order.
    async fn get_keys(&self) -> anyhow::Result<Vec<String>>;
    /// Adds `delta` to the integer under `key` (a missing key counts as 0) in one atomic step
    /// and returns the new value. Integers are stored as their decimal text, as Redis does.
    async fn increment(&self, key: &str, delta: i64) -> anyhow::Result<i64>;
    /// Replaces the value under `key` with `new` only if it is still `expected` (`None`: the
    /// key is absent), in one atomic step; whether it was replaced.
    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> anyhow::Result<bool>;
}

/// The integer an incremented value holds: its decimal text.
pub(crate) fn parse_counter(value: &[u8]) -> anyhow::Result<i64> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("the value is not an integer, so it cannot be incremented"))
}

/// `current + delta`, or an error instead of wrapping around.
pub(crate) fn add_to_counter(current: i64, delta: i64) -> anyhow::Result<i64> {
    current.checked_add(delta).ok_or_else(|| {
        anyhow::anyhow!("incrementing {current} by {delta} overflows a 64-bit integer")
    })
}

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS spin_key_value (
    store TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (store, key))";

/// Key-value stores kept in one SQLite file, as Spin keeps them: a table of
/// (store, key, value) rows.
#[derive(Clone)]
pub struct SqliteKeyValue {
    conn: SharedConnection,
}

impl SqliteKeyValue {
    /// Opens (creating if needed) the file at `path`.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            conn: SharedConnection::open(path, SCHEMA)?,
        })
    }

    /// The store named `name` in this file.
    pub fn store(&self, name: &str) -> Arc<dyn KeyValueStore> {
        Arc::new(NamedStore {
            conn: self.conn.clone(),
            name: name.into(),
        })
    }
}

struct NamedStore {
    conn: SharedConnection,
    name: Arc<str>,
}

#[async_trait]
impl KeyValueStore for NamedStore {
    async fn get(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let (store, key) = (self.name.clone(), key.to_string());
        self.conn
            .run(move |c| Ok(select_value(c, &store, &key)?))
            .await
    }

    async fn set(&self, key: &str, value: &[u8]) -> anyhow::Result<()> {
        let (store, key, value) = (self.name.clone(), key.to_string(), value.to_vec());
        self.conn
            .run(move |c| Ok(upsert_value(c, &store, &key, &value)?))
            .await
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        let (store, key) = (self.name.clone(), key.to_string());
        self.conn
            .run(move |c| {
                c.prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                    .execute(params![&*store, key])?;
                Ok(())
            })
            .await
    }

    async fn exists(&self, key: &str) -> anyhow::Result<bool> {
        Ok(self.get(key).await?.is_some())
    }

    async fn get_keys(&self) -> anyhow::Result<Vec<String>> {
        let store = self.name.clone();
        self.conn
            .run(move |c| {
                let mut statement =
                    c.prepare_cached("SELECT key FROM spin_key_value WHERE store = ?1")?;
                let keys = statement
                    .query_map(params![&*store], |row| row.get(0))?
                    .collect::<Result<Vec<String>, _>>()?;
                Ok(keys)
            })
            .await
    }

    async fn increment(&self, key: &str, delta: i64) -> anyhow::Result<i64> {
        let (store, key) = (self.name.clone(), key.to_string());
        self.conn
            .run(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let current = select_value(&tx, &store, &key)?;
                let current = current.as_deref().map(parse_counter).transpose()?;
                let new = add_to_counter(current.unwrap_or(0), delta)?;
                upsert_value(&tx, &store, &key, new.to_string().as_bytes())?;
                tx.commit()?;
                Ok(new)
            })
            .await
    }

    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> anyhow::Result<bool> {
        let (store, key) = (self.name.clone(), key.to_string());
        let (expected, new) = (expected.map(<[u8]>::to_vec), new.to_vec());
        self.conn
            .run(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                if select_value(&tx, &store, &key)? != expected {
                    return Ok(false);
                }
                upsert_value(&tx, &store, &key, &new)?;
                tx.commit()?;
                Ok(true)
            })
            .await
    }
}

fn select_value(c: &Connection, store: &str, key: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    c.prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")?
        .query_row(params![store, key], |row| row.get(0))
        .optional()
}

fn upsert_value(c: &Connection, store: &str, key: &str, value: &[u8]) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
         ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![store, key, value])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stores_are_separate_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.db");
        let file = SqliteKeyValue::open(&path).unwrap();
        let (a, b) = (file.store("a"), file.store("b"));
        a.set("k", b"one").await.unwrap();
        a.set("k", b"two").await.unwrap();
        assert_eq!(a.get("k").await.unwrap().as_deref(), Some(&b"two"[..]));
        assert_eq!(b.get("k").await.unwrap(), None);
        assert!(a.exists("k").await.unwrap());
        drop((a, b, file));

        let a = SqliteKeyValue::open(&path).unwrap().store("a");
        assert_eq!(a.get_keys().await.unwrap(), ["k"]);
        a.delete("k").await.unwrap();
        a.delete("k").await.unwrap();
        assert!(!a.exists("k").await.unwrap());
    }

    #[tokio::test]
    async fn sqlite_stores_keep_the_contract() {
        let dir = tempfile::tempdir().unwrap();
        let file = SqliteKeyValue::open(&dir.path().join("kv.db")).unwrap();
        contract::check(file.store("s"), "").await;
    }
}

/// What every [`KeyValueStore`] must do, checked against each backend by its tests.
#[cfg(test)]
pub(crate) mod contract {
    use super::*;

    /// Runs the contract on `store`, with every key prefixed by `prefix` (for shared servers).
    pub(crate) async fn check(store: Arc<dyn KeyValueStore>, prefix: &str) {
        let key = |name: &str| format!("{prefix}{name}");
        for name in ["k", "n", "text", "max", "c"] {
            store.delete(&key(name)).await.unwrap();
        }
        store.set(&key("k"), b"one").await.unwrap();
        store.set(&key("k"), b"two").await.unwrap();
        assert_eq!(
            store.get(&key("k")).await.unwrap().as_deref(),
            Some(&b"two"[..])
        );
        assert!(store.exists(&key("k")).await.unwrap());
        assert!(store.get_keys().await.unwrap().contains(&key("k")));
        store.delete(&key("k")).await.unwrap();
        store.delete(&key("k")).await.unwrap();
        assert!(!store.exists(&key("k")).await.unwrap());
        assert_eq!(store.get(&key("k")).await.unwrap(), None);

        let adds = (0..20).map(|_| {
            let (store, n) = (store.clone(), key("n"));
            tokio::spawn(async move { store.increment(&n, 2).await.unwrap() })
        });
        for add in adds {
            add.await.unwrap();
        }
        assert_eq!(
            store.get(&key("n")).await.unwrap().as_deref(),
            Some(&b"40"[..])
        );
        assert_eq!(store.increment(&key("n"), -41).await.unwrap(), -1);

        store.set(&key("text"), b"abc").await.unwrap();
        let not_a_number = store.increment(&key("text"), 1).await.unwrap_err();
        assert!(
            format!("{not_a_number:#}").contains("not an integer"),
            "{not_a_number:#}"
        );
        let max = i64::MAX.to_string();
        store.set(&key("max"), max.as_bytes()).await.unwrap();
        assert!(store.increment(&key("max"), 1).await.is_err());

        let c = key("c");
        assert!(store.compare_and_swap(&c, None, b"1").await.unwrap());
        assert!(!store.compare_and_swap(&c, None, b"2").await.unwrap());
        assert!(!store.compare_and_swap(&c, Some(b"0"), b"2").await.unwrap());
        assert!(store.compare_and_swap(&c, Some(b"1"), b"2").await.unwrap());
        assert_eq!(store.get(&c).await.unwrap().as_deref(), Some(&b"2"[..]));
    }
}
