//! Opening a SQLite file the way every kiln backend wants it, and running blocking SQLite work
//! off the async threads.

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use rusqlite::Connection;

/// A SQLite connection shared by async callers.
#[derive(Clone)]
pub(crate) struct SharedConnection(Arc<Mutex<Connection>>);

impl SharedConnection {
    /// Opens (creating if needed) the database at `path`, with durable writes, and runs
    /// `schema` (idempotent statements) on it.
    pub(crate) fn open(path: &Path, schema: &str) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let conn = Connection::open(path)
            .with_context(|| format!("opening SQLite database {}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(schema)
            .with_context(|| format!("preparing {}", path.display()))?;
        Ok(Self(Arc::new(Mutex::new(conn))))
    }

    /// Runs `work` with the connection on a blocking thread.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let conn = self.0.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn
                .lock()
                .map_err(|_| anyhow::anyhow!("a SQLite call panicked earlier"))?;
            work(&mut conn)
        })
        .await
        .context("SQLite task failed")?
    }
}
