//! kiln's storage backends, behind small traits so a capability does not care where its data
//! lives: key-value stores ([`KeyValueStore`]) and SQL databases ([`SqlDatabase`]), each with an
//! embedded SQLite implementation that needs no set-up, and key-value on Redis
//! ([`RedisKeyValue`]) and NATS JetStream ([`NatsKeyValue`]). Imports nothing of kiln's.
//!
//! Every acknowledged write is committed to disk (SQLite WAL with `synchronous = FULL`) before
//! the call returns, so a killed host loses nothing it answered for.

mod key_value;
mod nats_kv;
mod redis_kv;
mod sql;
mod sqlite_file;

pub use key_value::{KeyValueStore, SqliteKeyValue};
pub use nats_kv::{open_bucket, BucketSettings, NatsKeyValue};
pub use redis_kv::{redis_connection_config, RedisKeyValue};
pub use sql::{QueryResult, SqlDatabase, SqlValue, SqliteDatabase};
