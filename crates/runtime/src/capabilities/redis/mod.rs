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
use wasmtime::component::{HasData, Linker};

use super::capability::{Capability, ComponentContext};
use super::labels::Handles;
use super::servers::ServerAccess;
use crate::network::address_for_messages;
use crate::LoadError;

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
    access: Arc<ServerAccess<RedisPool>>,
    open: Handles<ConnectionManager>,
}

impl RedisInstance {
    pub(crate) fn new(component_id: Arc<str>, access: Arc<ServerAccess<RedisPool>>) -> Self {
        Self {
            component_id,
            access,
            open: Handles::new(MAX_OPEN_CONNECTIONS),
        }
    }

    /// Checks `address` against the grants; the pool and address to connect with.
    fn admit(&self, address: &str) -> Result<RedisPool, Failure> {
        if !self.access.allows(address, &["redis", "rediss"]) {
            tracing::error!(
                component_id = %self.component_id,
                "Redis connection to {} denied: add its redis://host:port to allowed_outbound_hosts",
                address_for_messages(address)
            );
            return Err(Failure::InvalidAddress);
        }
        Ok(self.access.pool.clone())
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

/// Redis: `fermyon:spin/redis@2.0.0` and `spin:redis/redis@3.0.0`. One pool per app, the component's outbound grant, a handle table per instance.
pub(crate) struct Redis;

impl Capability for Redis {
    type AppState = RedisPool;
    type ComponentState = ServerAccess<RedisPool>;
    type InstanceState = RedisInstance;

    fn link<T: Send + 'static>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> &mut RedisInstance,
    ) -> anyhow::Result<()> {
        kiln_world::v2::redis::add_to_linker::<_, HasRedis>(linker, get)?;
        kiln_world::v3::redis::add_to_linker::<_, HasRedis>(linker, get)?;
        Ok(())
    }

    fn configure_component(
        pool: &RedisPool,
        component: &ComponentContext<'_>,
    ) -> Result<Self::ComponentState, LoadError> {
        Ok(ServerAccess::new(pool, component))
    }

    fn new_instance(access: &Arc<Self::ComponentState>, id: &Arc<str>) -> RedisInstance {
        RedisInstance::new(id.clone(), access.clone())
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
