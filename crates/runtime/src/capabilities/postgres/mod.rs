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
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::{Client, NoTls};
use wasmtime::component::{HasData, Linker};

use super::capability::{Capability, ComponentContext};
use super::labels::Handles;
use super::servers::ServerAccess;
use crate::network::tls;
use crate::LoadError;
use client::Failure;

/// Most connections one instance may hold open at once.
const MAX_OPEN_CONNECTIONS: usize = 64;

/// An app's PostgreSQL clients, one per address (and CA root), shared by all its instances.
#[derive(Clone, Default)]
pub struct PgPool {
    clients: Arc<Mutex<HashMap<ClientKey, Arc<Client>>>>,
}

/// What tells pooled clients apart: the address and the CA root (PEM) trusted for it.
type ClientKey = (String, Option<String>);

impl PgPool {
    /// The client for `address`, connecting on first use and after the server closed it;
    /// `servers` (its `postgres://host:port`s) name it in messages, without its credentials.
    /// `sslmode` means what it means to libpq: `disable` is plain; `prefer` (the default) and
    /// `require` encrypt (when the server offers it, or always) without checking the server's
    /// certificate; `verify-ca` and `verify-full`, or a `ca_root` (PEM) given, check it against
    /// the platform's roots and `ca_root`.
    async fn connect(
        &self,
        address: &str,
        ca_root: Option<&str>,
        servers: &[String],
    ) -> Result<Arc<Client>, Failure> {
        let mut clients = self.clients.lock().await;
        let key = (address.to_string(), ca_root.map(str::to_string));
        if let Some(client) = clients.get(&key).filter(|c| !c.is_closed()) {
            return Ok(client.clone());
        }
        let shown = servers.join(", ");
        let failed = |e: tokio_postgres::Error| {
            // The TLS error's reason (an unknown issuer, a wrong name) is in its sources.
            let mut reason = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                reason.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            Failure::ConnectionFailed(format!("connecting to {shown}: {reason}"))
        };
        let (parsed, verify) = without_verify_mode(address);
        let config: tokio_postgres::Config = parsed
            .parse()
            .map_err(|e| Failure::ConnectionFailed(format!("invalid connection string: {e}")))?;
        let client = if config.get_ssl_mode() == SslMode::Disable {
            let (client, connection) = config.connect(NoTls).await.map_err(failed)?;
            spawn_connection(connection, shown);
            client
        } else {
            let tls = match (ca_root, verify) {
                (Some(pem), _) => tls::client_config_with_root(pem),
                (None, true) => tls::client_config(),
                (None, false) => Ok(tls::encrypting_only_config()),
            }
            .map_err(Failure::ConnectionFailed)?;
            let connector = tokio_postgres_rustls::MakeRustlsConnect::new((*tls).clone());
            let (client, connection) = config.connect(connector).await.map_err(failed)?;
            spawn_connection(connection, shown);
            client
        };
        let client = Arc::new(client);
        clients.insert(key, client.clone());
        Ok(client)
    }
}

/// `address` with libpq's `sslmode=verify-ca` or `verify-full` (which tokio-postgres does not
/// parse) made `require`, and whether it asked for the server's certificate to be checked.
fn without_verify_mode(address: &str) -> (String, bool) {
    let mut verify = false;
    let mut parsed = address.to_string();
    for mode in ["verify-full", "verify-ca"] {
        for (from, to) in [
            (format!("sslmode={mode}"), "sslmode=require".to_string()),
            (format!("sslmode='{mode}'"), "sslmode=require".to_string()),
        ] {
            if parsed.contains(&from) {
                parsed = parsed.replace(&from, &to);
                verify = true;
            }
        }
    }
    (parsed, verify)
}

/// Drives a client's `connection` until it ends, logging why, with `shown` naming its server.
fn spawn_connection<F>(connection: F, shown: String)
where
    F: std::future::Future<Output = Result<(), tokio_postgres::Error>> + Send + 'static,
{
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!("PostgreSQL connection to {shown} ended: {e}");
        }
    });
}

/// The `postgres://host:port` of each server a connection string names: a URL
/// (`postgres://user@host:port/db`) or libpq's `key=value` form (`host=h port=5432 user=u`),
/// with libpq's defaults (port 5432); an error for a string of neither form, or one that names
/// a Unix socket or no host.
fn servers(address: &str) -> Result<Vec<String>, String> {
    let (address, _) = without_verify_mode(address);
    let config: tokio_postgres::Config = address.parse().map_err(|e| {
        format!("invalid connection string ({e}): use postgres://USER@HOST:PORT/DATABASE or host=HOST port=PORT user=USER dbname=DATABASE")
    })?;
    let ports = config.get_ports();
    let mut servers = Vec::new();
    for (i, host) in config.get_hosts().iter().enumerate() {
        let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
        match host {
            Host::Tcp(name) if name.contains(':') => {
                servers.push(format!("postgres://[{name}]:{port}"))
            }
            Host::Tcp(name) => servers.push(format!("postgres://{name}:{port}")),
            Host::Unix(path) => {
                return Err(format!(
                    "{} is a Unix socket: connect over TCP, with host=HOST",
                    path.display()
                ))
            }
        }
    }
    if servers.is_empty() {
        return Err(
            "the connection string names no host: add host=HOST (or postgres://HOST)".into(),
        );
    }
    Ok(servers)
}

/// Per-instance state: who is asking, what they may reach, and the connections opened so far.
pub struct PgInstance {
    component_id: Arc<str>,
    access: Arc<ServerAccess<PgPool>>,
    open: Handles<Arc<Client>>,
    /// `connection-builder`s not yet built: their addresses.
    /// Connection builders: the address and the CA root (PEM) set on it.
    builders: Handles<(String, Option<String>)>,
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

    /// Opens a connection to `address` (a URL or libpq's `key=value` form) if the grants allow
    /// it, trusting `ca_root` (PEM) too; its handle.
    async fn open(&mut self, address: &str, ca_root: Option<&str>) -> Result<u32, Failure> {
        let servers = servers(address).map_err(Failure::ConnectionFailed)?;
        let pool = self.admit(&servers)?;
        let client = pool.connect(address, ca_root, &servers).await?;
        self.insert(client)
    }

    /// Checks every server of a connection string against the grants; the pool to connect
    /// with.
    fn admit(&self, servers: &[String]) -> Result<PgPool, Failure> {
        let schemes = ["postgres", "postgresql"];
        if let Some(denied) = servers.iter().find(|s| !self.access.allows(s, &schemes)) {
            tracing::error!(
                component_id = %self.component_id,
                "PostgreSQL connection to {denied} denied: add it to allowed_outbound_hosts",
            );
            // Spin's words, which guests match on.
            return Err(Failure::ConnectionFailed(format!(
                "address {denied} is not permitted"
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
                Ok(PgInstance::open(self, &address, None)
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

#[cfg(test)]
mod tests {
    use super::{servers, without_verify_mode};

    #[test]
    fn verify_modes_become_require_and_ask_for_a_check() {
        assert_eq!(
            without_verify_mode("postgres://h/db?sslmode=verify-full"),
            ("postgres://h/db?sslmode=require".to_string(), true)
        );
        assert_eq!(
            without_verify_mode("host=h sslmode='verify-ca'"),
            ("host=h sslmode=require".to_string(), true)
        );
        assert_eq!(
            without_verify_mode("host=h sslmode=prefer"),
            ("host=h sslmode=prefer".to_string(), false)
        );
    }

    #[test]
    fn servers_of_urls_and_key_value_strings() {
        for (address, expected) in [
            (
                "postgres://u:secret@db.example:6543/app",
                vec!["postgres://db.example:6543"],
            ),
            (
                "postgresql://u@localhost/app",
                vec!["postgres://localhost:5432"],
            ),
            (
                "host=localhost port=5432 user=postgres dbname=app",
                vec!["postgres://localhost:5432"],
            ),
            (
                "host=10.0.0.1 user=u password=secret",
                vec!["postgres://10.0.0.1:5432"],
            ),
            ("host=::1 port=7000", vec!["postgres://[::1]:7000"]),
            (
                "host=a,b port=1,2",
                vec!["postgres://a:1", "postgres://b:2"],
            ),
        ] {
            assert_eq!(
                servers(address),
                Ok(expected.iter().map(|s| s.to_string()).collect()),
                "{address}"
            );
        }
        assert!(servers("host=/var/run/postgresql")
            .unwrap_err()
            .contains("Unix socket"));
        assert!(servers("user=u dbname=app")
            .unwrap_err()
            .contains("names no host"));
        assert!(servers("not a connection string")
            .unwrap_err()
            .contains("invalid connection string"));
    }
}
