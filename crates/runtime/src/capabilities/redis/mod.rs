//! Redis: `fermyon:spin/redis@2.0.0` and `spin:redis/redis@3.0.0`, over real connections.
//!
//! Grants: a component may open `redis://` (or `rediss://`) addresses its
//! `allowed_outbound_hosts` allows; any other address is `invalid-address`, as in Spin.
//! Connections are pooled per app and address ([`RedisPool`]): the first `open` connects, later
//! ones (from any instance) share that multiplexed connection, which reconnects by itself after
//! the server restarts. Per instance: a table of open handles, no I/O.

mod commands;
mod v2;
mod v3;

use std::collections::HashMap;
use std::sync::Arc;

use kiln_state::redis_connection_config;
use redis::aio::ConnectionManager;
use tokio::sync::Mutex;
use wasmtime::component::HasData;

use super::labels::Handles;
use super::outbound::{address_allowed, address_for_messages};
use crate::grants::Grants;

use commands::Failure;

/// Most connections one instance may hold open at once.
const MAX_OPEN_CONNECTIONS: usize = 64;

/// An app's Redis connections, one per address, shared by all its instances.
#[derive(Clone, Default)]
pub struct RedisPool {
    connections: Arc<Mutex<HashMap<String, ConnectionManager>>>,
}

impl RedisPool {
    /// The connection to `address`, connecting on first use.
    async fn connect(&self, address: &str) -> Result<ConnectionManager, Failure> {
        let mut connections = self.connections.lock().await;
        if let Some(connection) = connections.get(address) {
            return Ok(connection.clone());
        }
        let client = redis::Client::open(address).map_err(|_| Failure::InvalidAddress)?;
        let connection = ConnectionManager::new_with_config(client, redis_connection_config())
            .await
            .map_err(|e| Failure::Other(format!("connecting to Redis: {e}")))?;
        connections.insert(address.to_string(), connection.clone());
        Ok(connection)
    }
}

/// Per-instance state: who is asking, what they may reach, and the connections opened so far.
pub struct RedisInstance {
    component_id: Arc<str>,
    grants: Arc<Grants>,
    open: Handles<ConnectionManager>,
}

impl RedisInstance {
    pub(crate) fn new(component_id: Arc<str>, grants: Arc<Grants>) -> Self {
        Self {
            component_id,
            grants,
            open: Handles::new(MAX_OPEN_CONNECTIONS),
        }
    }

    /// Checks `address` against the grants; the pool and address to connect with.
    fn admit(&self, address: &str) -> Result<RedisPool, Failure> {
        if !address_allowed(&self.grants.outbound, address, &["redis", "rediss"]) {
            tracing::error!(
                component_id = %self.component_id,
                "Redis connection to {} denied: add its redis://host:port to allowed_outbound_hosts",
                address_for_messages(address)
            );
            return Err(Failure::InvalidAddress);
        }
        Ok(self.grants.connections.redis.clone())
    }

    /// Remembers an opened connection; its handle.
    fn insert(&mut self, connection: ConnectionManager) -> Result<u32, Failure> {
        self.open
            .insert(connection)
            .ok_or(Failure::TooManyConnections)
    }

    /// The connection behind handle `rep`.
    fn connection(&self, rep: u32) -> Result<ConnectionManager, Failure> {
        self.open
            .get(rep)
            .cloned()
            .ok_or_else(|| Failure::Other("invalid connection handle".into()))
    }
}

/// `HasData` marker for linking.
pub(crate) struct HasRedis;

impl HasData for HasRedis {
    type Data<'a> = &'a mut RedisInstance;
}

/// The conversions between an interface version's types and [`commands`]' own.
macro_rules! conversions {
    ($redis:ident) => {
        impl From<Failure> for $redis::Error {
            fn from(failure: Failure) -> Self {
                match failure {
                    Failure::InvalidAddress => Self::InvalidAddress,
                    Failure::TooManyConnections => Self::TooManyConnections,
                    Failure::TypeError => Self::TypeError,
                    Failure::Other(message) => Self::Other(message),
                }
            }
        }

        fn param(param: $redis::RedisParameter) -> Param {
            match param {
                $redis::RedisParameter::Int64(n) => Param::Int64(n),
                $redis::RedisParameter::Binary(bytes) => Param::Binary(bytes),
            }
        }

        fn reply(reply: Reply) -> $redis::RedisResult {
            match reply {
                Reply::Nil => $redis::RedisResult::Nil,
                Reply::Status(text) => $redis::RedisResult::Status(text),
                Reply::Int64(n) => $redis::RedisResult::Int64(n),
                Reply::Binary(bytes) => $redis::RedisResult::Binary(bytes),
            }
        }
    };
}
use conversions;
