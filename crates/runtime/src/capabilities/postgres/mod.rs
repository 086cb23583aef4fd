//! PostgreSQL: `fermyon:spin/postgres@2.0.0`, `spin:postgres/postgres@3.0.0` and
//! `spin:postgres/postgres@4.2.0` (which 4.0 and 4.1 imports link to), on real connections
//! (`tokio-postgres`).
//!
//! Grants: a component may open `postgres://` addresses its `allowed_outbound_hosts` allows;
//! any other is `connection-failed`. Connections are pooled per app and address ([`PgPool`]):
//! one client per address, shared by every instance (it pipelines their statements), replaced
//! when the server closes it. Per instance: a table of open handles, no I/O.

mod client;
mod v2;
mod v3;
mod v4;
mod wire;

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Mutex;
use tokio_postgres::{Client, NoTls};
use wasmtime::component::{HasData, Linker};

use super::capability::{Capability, ComponentContext};
use super::labels::Handles;
use super::servers::ServerAccess;
use crate::network::address_for_messages;
use crate::LoadError;
use client::Failure;

/// Most connections one instance may hold open at once.
const MAX_OPEN_CONNECTIONS: usize = 64;

/// An app's PostgreSQL clients, one per address, shared by all its instances.
#[derive(Clone, Default)]
pub struct PgPool {
    clients: Arc<Mutex<HashMap<String, Arc<Client>>>>,
}

impl PgPool {
    /// The client for `address`, connecting on first use and after the server closed it.
    async fn connect(&self, address: &str) -> Result<Arc<Client>, Failure> {
        let mut clients = self.clients.lock().await;
        if let Some(client) = clients.get(address).filter(|c| !c.is_closed()) {
            return Ok(client.clone());
        }
        let (client, connection) = tokio_postgres::connect(address, NoTls)
            .await
            .map_err(|e| Failure::ConnectionFailed(format!("connecting to {address}: {e}")))?;
        let address_for_log = address.to_string();
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!("PostgreSQL connection to {address_for_log} ended: {e}");
            }
        });
        let client = Arc::new(client);
        clients.insert(address.to_string(), client.clone());
        Ok(client)
    }
}

/// Per-instance state: who is asking, what they may reach, and the connections opened so far.
pub struct PgInstance {
    component_id: Arc<str>,
    access: Arc<ServerAccess<PgPool>>,
    open: Handles<Arc<Client>>,
    /// `connection-builder`s not yet built: their addresses.
    builders: Handles<String>,
}

impl PgInstance {
    pub(crate) fn new(component_id: Arc<str>, access: Arc<ServerAccess<PgPool>>) -> Self {
        Self {
            component_id,
            access,
            open: Handles::new(MAX_OPEN_CONNECTIONS),
            builders: Handles::new(MAX_OPEN_CONNECTIONS),
        }
    }

    /// Opens a connection to `address` if the grants allow it; its handle.
    async fn open(&mut self, address: &str) -> Result<u32, Failure> {
        let client = self.admit(address)?.connect(address).await?;
        self.insert(client)
    }

    /// Checks `address` against the grants; the pool to connect with.
    fn admit(&self, address: &str) -> Result<PgPool, Failure> {
        if !self.access.allows(address, &["postgres", "postgresql"]) {
            tracing::error!(
                component_id = %self.component_id,
                "PostgreSQL connection to {} denied: add its postgres://host:port to allowed_outbound_hosts",
                address_for_messages(address)
            );
            return Err(Failure::ConnectionFailed(format!(
                "{} is not allowed: add it to allowed_outbound_hosts",
                address_for_messages(address)
            )));
        }
        Ok(self.access.pool.clone())
    }

    /// Remembers an opened connection; its handle.
    fn insert(&mut self, client: Arc<Client>) -> Result<u32, Failure> {
        self.open
            .insert(client)
            .ok_or_else(|| Failure::ConnectionFailed("too many connections open".into()))
    }

    /// The client behind handle `rep`.
    fn client(&self, rep: u32) -> Result<Arc<Client>, Failure> {
        self.open
            .get(rep)
            .cloned()
            .ok_or_else(|| Failure::ConnectionFailed("invalid connection handle".into()))
    }
}

/// What both interface versions share: the error conversion and the `connection` resource.
/// Expects in scope, at the call: the version's `postgres` module, `Connection`, `Error`,
/// `ParameterValue`, `RowSet`, `Column`, and `params`, `db_value` and `data_type` converting
/// to and from [`client`]'s types.
macro_rules! connection_resource {
    () => {
        impl From<Failure> for Error {
            fn from(failure: Failure) -> Self {
                match failure {
                    Failure::ConnectionFailed(m) => Error::ConnectionFailed(m),
                    Failure::BadParameter(m) => Error::BadParameter(m),
                    Failure::QueryFailed(m, _) => Error::QueryFailed(m),
                    Failure::ValueConversionFailed(m) => Error::ValueConversionFailed(m),
                }
            }
        }

        impl postgres::Host for PgInstance {}

        impl postgres::HostConnection for PgInstance {
            async fn open(&mut self, address: String) -> Outcome<Resource<Connection>> {
                Ok(PgInstance::open(self, &address)
                    .await
                    .map(Resource::new_own)
                    .map_err(Error::from))
            }

            async fn query(
                &mut self,
                c: Resource<Connection>,
                statement: String,
                values: Vec<ParameterValue>,
            ) -> Outcome<RowSet> {
                let run = async {
                    let client = self.client(c.rep())?;
                    let rows = client::query(&client, &statement, params(values)?).await?;
                    Ok(RowSet {
                        columns: rows
                            .columns
                            .into_iter()
                            .map(|(name, ty)| Column {
                                name,
                                data_type: data_type(ty),
                            })
                            .collect(),
                        rows: rows
                            .rows
                            .into_iter()
                            .map(|row| row.into_iter().map(db_value).collect())
                            .collect(),
                    })
                };
                Ok(run.await.map_err(|f: Failure| Error::from(f)))
            }

            async fn execute(
                &mut self,
                c: Resource<Connection>,
                statement: String,
                values: Vec<ParameterValue>,
            ) -> Outcome<u64> {
                let run = async {
                    let client = self.client(c.rep())?;
                    client::execute(&client, &statement, params(values)?).await
                };
                Ok(run.await.map_err(Error::from))
            }

            async fn drop(&mut self, c: Resource<Connection>) -> anyhow::Result<()> {
                self.open.remove(c.rep());
                Ok(())
            }
        }
    };
}
use connection_resource;

/// PostgreSQL: `fermyon:spin/postgres@2.0.0`, `spin:postgres/postgres@3.0.0` and `@4.2.0`. One pool per app, the component's outbound grant, a handle table per instance.
pub(crate) struct Postgres;

impl Capability for Postgres {
    type AppState = PgPool;
    type ComponentState = ServerAccess<PgPool>;
    type InstanceState = PgInstance;

    fn link<T: Send + 'static>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> &mut PgInstance,
    ) -> anyhow::Result<()> {
        kiln_world::v2::rdbms_types::add_to_linker::<_, HasPostgres>(linker, get)?;
        kiln_world::v2::postgres::add_to_linker::<_, HasPostgres>(linker, get)?;
        kiln_world::v3::postgres3::add_to_linker::<_, HasPostgres>(linker, get)?;
        kiln_world::v3::postgres4::add_to_linker::<_, HasPostgres>(linker, get)?;
        Ok(())
    }

    fn configure_component(
        pool: &PgPool,
        component: &ComponentContext<'_>,
    ) -> Result<Self::ComponentState, LoadError> {
        Ok(ServerAccess::new(pool, component))
    }

    fn new_instance(access: &Arc<Self::ComponentState>, id: &Arc<str>) -> PgInstance {
        PgInstance::new(id.clone(), access.clone())
    }
}

/// `HasData` marker for linking.
pub(crate) struct HasPostgres;

impl HasData for HasPostgres {
    type Data<'a> = &'a mut PgInstance;
}
