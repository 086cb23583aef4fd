//! Key-value stores.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

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
            .run(move |c| {
                let value = c
                    .prepare_cached(
                        "SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2",
                    )?
                    .query_row(params![&*store, key], |row| row.get(0))
                    .optional()?;
                Ok(value)
            })
            .await
    }

    async fn set(&self, key: &str, value: &[u8]) -> anyhow::Result<()> {
        let (store, key, value) = (self.name.clone(), key.to_string(), value.to_vec());
        self.conn
            .run(move |c| {
                c.prepare_cached(
                    "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                     ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
                )?
                .execute(params![&*store, key, value])?;
                Ok(())
            })
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
}
