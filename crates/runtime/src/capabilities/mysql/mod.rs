//! MySQL (and MariaDB): `fermyon:spin/mysql@2.0.0` and `spin:mysql/mysql@3.0.0`, on real
//! connections (`mysql_async`).
//!
//! Grants: a component may open `mysql://` addresses its `allowed_outbound_hosts` allows; any
//! other is `connection-failed`. Connections are pooled per app and address ([`MysqlPool`]):
//! `open` takes a connection from the address's pool and holds it, so a guest's statements
//! share one session (transactions and temporary tables work); dropping the handle, or the
//! instance, gives it back.

mod client;
mod v2;
mod v3;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use mysql_async::{Conn, Opts, Pool};
use tokio::sync::Mutex;
use wasmtime::component::{HasData, Linker};

use super::capability::{Capability, ComponentContext};
use super::labels::Handles;
use super::servers::ServerAccess;
use crate::network::address_for_messages;
use crate::LoadError;
use client::Failure;

/// Most connections one instance may hold open at once.
const MAX_OPEN_CONNECTIONS: usize = 16;
/// How long `open` waits for a connection before failing.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An open connection: a session held by one guest handle.
type Session = Arc<Mutex<Conn>>;

/// An app's MySQL connection pools, one per address, shared by all its instances.
#[derive(Clone, Default)]
pub struct MysqlPool {
    pools: Arc<std::sync::Mutex<HashMap<String, Pool>>>,
}

impl MysqlPool {
    /// A connection to `address` from its pool, which is made on first use.
    async fn connect(&self, address: &str) -> Result<Conn, Failure> {
        let pool = {
            let mut pools = self.pools.lock().unwrap();
            match pools.get(address) {
                Some(pool) => pool.clone(),
                None => {
                    let opts = Opts::from_url(address).map_err(|e| {
                        Failure::ConnectionFailed(format!("invalid MySQL address: {e}"))
                    })?;
                    let pool = Pool::new(opts);
                    pools.insert(address.to_string(), pool.clone());
                    pool
                }
            }
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, pool.get_conn()).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(Failure::ConnectionFailed(format!(
                "connecting to {}: {e}",
                address_for_messages(address)
            ))),
            Err(_) => Err(Failure::ConnectionFailed(format!(
                "connecting to {} timed out",
                address_for_messages(address)
            ))),
        }
    }
}

/// Per-instance state: who is asking, what they may reach, and the connections opened so far.
pub struct MysqlInstance {
    component_id: Arc<str>,
    access: Arc<ServerAccess<MysqlPool>>,
    open: Handles<Session>,
}

impl MysqlInstance {
    pub(crate) fn new(component_id: Arc<str>, access: Arc<ServerAccess<MysqlPool>>) -> Self {
        Self {
            component_id,
            access,
            open: Handles::new(MAX_OPEN_CONNECTIONS),
        }
    }

    /// Checks `address` against the grants; the pool to connect with.
    fn admit(&self, address: &str) -> Result<MysqlPool, Failure> {
        if !self.access.allows(address, &["mysql"]) {
            tracing::error!(
                component_id = %self.component_id,
                "MySQL connection to {} denied: add its mysql://host:port to allowed_outbound_hosts",
                address_for_messages(address)
            );
            // Spin's words, which guests match on.
            return Err(Failure::ConnectionFailed(format!(
                "address {address} is not permitted"
            )));
        }
        Ok(self.access.pool.clone())
    }

    /// Remembers an opened connection; its handle.
    fn insert(&mut self, conn: Conn) -> Result<u32, Failure> {
        self.open
            .insert(Arc::new(Mutex::new(conn)))
            .ok_or_else(|| Failure::ConnectionFailed("too many connections open".into()))
    }

    /// The connection behind handle `rep`.
    fn session(&self, rep: u32) -> Result<Session, Failure> {
        self.open
            .get(rep)
            .cloned()
            .ok_or_else(|| Failure::Other("invalid connection handle".into()))
    }
}

/// MySQL: `fermyon:spin/mysql@2.0.0` and `spin:mysql/mysql@3.0.0`. One pool per app, the component's outbound grant, a handle table per instance.
pub(crate) struct Mysql;

impl Capability for Mysql {
    type AppState = MysqlPool;
    type ComponentState = ServerAccess<MysqlPool>;
    type InstanceState = MysqlInstance;

    fn link<T: Send + 'static>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> &mut MysqlInstance,
    ) -> anyhow::Result<()> {
        kiln_world::v2::mysql::add_to_linker::<_, HasMysql>(linker, get)?;
        kiln_world::v3::mysql::add_to_linker::<_, HasMysql>(linker, get)?;
        Ok(())
    }

    fn configure_component(
        pool: &MysqlPool,
        component: &ComponentContext<'_>,
    ) -> Result<Self::ComponentState, LoadError> {
        Ok(ServerAccess::new(pool, component))
    }

    fn new_instance(access: &Arc<Self::ComponentState>, id: &Arc<str>) -> MysqlInstance {
        MysqlInstance::new(id.clone(), access.clone())
    }
}

/// `HasData` marker for linking.
pub(crate) struct HasMysql;

impl HasData for HasMysql {
    type Data<'a> = &'a mut MysqlInstance;
}

/// The conversions between an interface version's types (in module `$types`) and
/// [`client`]'s own; both versions have the same variants.
macro_rules! conversions {
    ($($types:ident)::+) => {
        use $($types)::+ as types;

        impl From<Failure> for types::Error {
            fn from(failure: Failure) -> Self {
                match failure {
                    Failure::ConnectionFailed(m) => Self::ConnectionFailed(m),
                    Failure::QueryFailed(m) => Self::QueryFailed(m),
                    Failure::ValueConversionFailed(m) => Self::ValueConversionFailed(m),
                    Failure::Other(m) => Self::Other(m),
                }
            }
        }

        fn params(values: Vec<types::ParameterValue>) -> Vec<Value> {
            use types::ParameterValue as P;
            let param = |value| match value {
                P::Boolean(v) => Value::Bool(v),
                P::Int8(v) => Value::I8(v),
                P::Int16(v) => Value::I16(v),
                P::Int32(v) => Value::I32(v),
                P::Int64(v) => Value::I64(v),
                P::Uint8(v) => Value::U8(v),
                P::Uint16(v) => Value::U16(v),
                P::Uint32(v) => Value::U32(v),
                P::Uint64(v) => Value::U64(v),
                P::Floating32(v) => Value::F32(v),
                P::Floating64(v) => Value::F64(v),
                P::Str(v) => Value::Str(v),
                P::Binary(v) => Value::Binary(v),
                P::DbNull => Value::Null,
            };
            values.into_iter().map(param).collect()
        }

        fn db_value(value: Value) -> types::DbValue {
            use types::DbValue as V;
            match value {
                Value::Null => V::DbNull,
                Value::Bool(v) => V::Boolean(v),
                Value::I8(v) => V::Int8(v),
                Value::I16(v) => V::Int16(v),
                Value::I32(v) => V::Int32(v),
                Value::I64(v) => V::Int64(v),
                Value::U8(v) => V::Uint8(v),
                Value::U16(v) => V::Uint16(v),
                Value::U32(v) => V::Uint32(v),
                Value::U64(v) => V::Uint64(v),
                Value::F32(v) => V::Floating32(v),
                Value::F64(v) => V::Floating64(v),
                Value::Str(v) => V::Str(v),
                Value::Binary(v) => V::Binary(v),
                Value::Unsupported => V::Unsupported,
            }
        }

        fn column(name: String, ty: ColumnType) -> types::Column {
            use types::DbDataType as T;
            let data_type = match ty {
                ColumnType::I8 => T::Int8,
                ColumnType::I16 => T::Int16,
                ColumnType::I32 => T::Int32,
                ColumnType::I64 => T::Int64,
                ColumnType::U8 => T::Uint8,
                ColumnType::U16 => T::Uint16,
                ColumnType::U32 => T::Uint32,
                ColumnType::U64 => T::Uint64,
                ColumnType::F32 => T::Floating32,
                ColumnType::F64 => T::Floating64,
                ColumnType::Str => T::Str,
                ColumnType::Binary => T::Binary,
                ColumnType::Other => T::Other,
            };
            types::Column { name, data_type }
        }
    };
}
use conversions;
