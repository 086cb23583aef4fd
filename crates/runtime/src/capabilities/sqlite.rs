//! SQLite: `fermyon:spin/sqlite@2.0.0` and `spin:sqlite/sqlite@3.1.0` (which also serves guests
//! importing 3.0.0; its async functions are what Spin SDK 7 calls).
//!
//! Grants: the component's `sqlite_databases` labels. Backends: the `default` database is a
//! SQLite file under the app's state directory (`.kiln/sqlite_db.db`). Per app: databases are
//! opened once ([`embedded_databases`]); per instance: a table of open connections, each with the
//! `last-insert-rowid` and `changes` of its own last statement.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use kiln_manifest::SqliteDatabaseConfig;
use kiln_state::{SqlDatabase, SqlValue, SqliteDatabase};
use kiln_world::v2::sqlite as v2;
use kiln_world::v3::sqlite as v3;
use wasmtime::component::{Accessor, FutureReader, HasData, Linker, Resource, StreamReader};

use super::capability::{AppContext, Capability, ComponentContext};
use super::labels::{Handles, LabelGrant, Labelled, Refused};
use crate::LoadError;

/// Every database an app defines, by label.
pub type SqliteDatabases = Labelled<Arc<dyn SqlDatabase>>;
/// The databases one component may open.
pub type SqliteGrant = LabelGrant<Arc<dyn SqlDatabase>>;

/// Most connections one instance may hold open at once.
const MAX_OPEN_CONNECTIONS: usize = 256;

/// The app's databases: `default` in `<state_dir>/sqlite_db.db` (when `embedded_default`), then
/// every database the runtime config defines (a `path`, or `<label>.db` in the state
/// directory), which may move `default` elsewhere.
pub fn configure_databases(
    state_dir: &Path,
    embedded_default: bool,
    configured: &BTreeMap<String, SqliteDatabaseConfig>,
) -> anyhow::Result<SqliteDatabases> {
    let mut databases: HashMap<String, Arc<dyn SqlDatabase>> = HashMap::new();
    if embedded_default && !configured.contains_key("default") {
        let default = SqliteDatabase::open(&state_dir.join("sqlite_db.db"))?;
        databases.insert("default".to_string(), Arc::new(default));
    }
    for (label, config) in configured {
        let path = config
            .path
            .clone()
            .unwrap_or_else(|| state_dir.join(format!("{label}.db")));
        databases.insert(label.clone(), Arc::new(SqliteDatabase::open(&path)?));
    }
    Ok(Labelled::new(databases))
}

/// One open connection: the database and what its last statement did.
#[derive(Clone)]
struct OpenConnection {
    db: Arc<dyn SqlDatabase>,
    last_insert_rowid: i64,
    changes: u64,
}

/// SQLite: the app's databases by label (with `--sqlite` statements run on `default` first),
/// each component's granted labels, and the connections an instance opened.
pub(crate) struct Sqlite;

impl Capability for Sqlite {
    type AppState = SqliteDatabases;
    type ComponentState = SqliteGrant;
    type InstanceState = SqliteInstance;

    fn link<T: Send + 'static>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> &mut SqliteInstance,
    ) -> anyhow::Result<()> {
        v2::add_to_linker::<_, HasSqlite>(linker, get)?;
        v3::add_to_linker::<_, HasSqlite>(linker, get)?;
        Ok(())
    }

    async fn configure_app(app: &AppContext<'_>) -> Result<SqliteDatabases, LoadError> {
        let options = app.options;
        let used = app
            .spec
            .components
            .iter()
            .any(|c| !c.sqlite_databases.is_empty())
            || !options.sqlite_statements.is_empty();
        let databases = configure_databases(
            &options.state_dir,
            used,
            &options.runtime_config.sqlite_databases,
        )
        .map_err(|reason| LoadError::Configure {
            what: "SQLite databases",
            reason,
        })?;
        if let Some(default) = databases.get("default") {
            for statement in &options.sqlite_statements {
                default
                    .execute_batch(statement)
                    .await
                    .map_err(|e| LoadError::Configure {
                        what: "--sqlite",
                        reason: e.context(format!("running `{statement}` on the default database")),
                    })?;
            }
        }
        Ok(databases)
    }

    fn configure_component(
        databases: &SqliteDatabases,
        component: &ComponentContext<'_>,
    ) -> Result<SqliteGrant, LoadError> {
        let labels = &component.spec.sqlite_databases;
        databases
            .grant_defined(labels, "sqlite_databases", "database", "sqlite_database")
            .map_err(|reason| component.refuse(reason))
    }

    fn new_instance(grant: &Arc<SqliteGrant>, id: &Arc<str>) -> SqliteInstance {
        SqliteInstance::new(id.clone(), grant.clone())
    }
}

/// Per-instance state: the grant and the connections opened so far.
pub struct SqliteInstance {
    grant: Arc<SqliteGrant>,
    component_id: Arc<str>,
    open: Handles<OpenConnection>,
}

/// Why a call failed, before it becomes an interface's error type.
enum Failure {
    Refused(Refused),
    TooManyConnections,
    InvalidConnection,
    Io(String),
}

impl SqliteInstance {
    pub(crate) fn new(component_id: Arc<str>, grant: Arc<SqliteGrant>) -> Self {
        Self {
            grant,
            component_id,
            open: Handles::new(MAX_OPEN_CONNECTIONS),
        }
    }

    fn open_label(&mut self, label: &str) -> Result<u32, Failure> {
        let db = self.grant.open(label).map_err(|refused| {
            tracing::warn!(component_id = %self.component_id, "SQLite database \"{label}\" refused: {refused:?}");
            Failure::Refused(refused)
        })?;
        let connection = OpenConnection {
            db,
            last_insert_rowid: 0,
            changes: 0,
        };
        self.open
            .insert(connection)
            .ok_or(Failure::TooManyConnections)
    }

    fn connection(&self, handle: u32) -> Result<OpenConnection, Failure> {
        self.open
            .get(handle)
            .cloned()
            .ok_or(Failure::InvalidConnection)
    }

    fn record(&mut self, handle: u32, result: &kiln_state::QueryResult) {
        if let Some(connection) = self.open.get_mut(handle) {
            if let Some(rowid) = result.last_insert_rowid {
                connection.last_insert_rowid = rowid;
            }
            connection.changes = result.changes;
        }
    }
}

async fn execute(
    connection: &OpenConnection,
    statement: &str,
    parameters: Vec<SqlValue>,
) -> Result<kiln_state::QueryResult, Failure> {
    connection
        .db
        .execute(statement, parameters)
        .await
        .map_err(|e| Failure::Io(format!("{e:#}")))
}

/// `HasData` marker for linking.
pub(crate) struct HasSqlite;

impl HasData for HasSqlite {
    type Data<'a> = &'a mut SqliteInstance;
}

/// Conversions between kiln's values and errors and one version's generated types (free
/// functions: both sides are foreign types).
macro_rules! conversions {
    ($name:ident, $v:ident) => {
        mod $name {
            use super::{$v, Failure, Refused, SqlValue};

            pub(super) fn error(failure: Failure) -> $v::Error {
                match failure {
                    Failure::Refused(Refused::Undefined) => $v::Error::NoSuchDatabase,
                    Failure::Refused(Refused::NotGranted) => $v::Error::AccessDenied,
                    Failure::TooManyConnections => {
                        $v::Error::Io("too many open connections".into())
                    }
                    Failure::InvalidConnection => $v::Error::InvalidConnection,
                    Failure::Io(message) => $v::Error::Io(message),
                }
            }

            pub(super) fn params(values: Vec<$v::Value>) -> Vec<SqlValue> {
                values
                    .into_iter()
                    .map(|value| match value {
                        $v::Value::Integer(i) => SqlValue::Integer(i),
                        $v::Value::Real(f) => SqlValue::Real(f),
                        $v::Value::Text(s) => SqlValue::Text(s),
                        $v::Value::Blob(b) => SqlValue::Blob(b),
                        $v::Value::Null => SqlValue::Null,
                    })
                    .collect()
            }

            pub(super) fn row(row: Vec<SqlValue>) -> $v::RowResult {
                let values = row
                    .into_iter()
                    .map(|value| match value {
                        SqlValue::Integer(i) => $v::Value::Integer(i),
                        SqlValue::Real(f) => $v::Value::Real(f),
                        SqlValue::Text(s) => $v::Value::Text(s),
                        SqlValue::Blob(b) => $v::Value::Blob(b),
                        SqlValue::Null => $v::Value::Null,
                    })
                    .collect();
                $v::RowResult { values }
            }

            pub(super) fn result(result: kiln_state::QueryResult) -> $v::QueryResult {
                $v::QueryResult {
                    columns: result.columns,
                    rows: result.rows.into_iter().map(row).collect(),
                }
            }
        }
    };
}

conversions!(v2_types, v2);
conversions!(v3_types, v3);

impl v2::Host for SqliteInstance {}

impl v2::HostConnection for SqliteInstance {
    async fn open(
        &mut self,
        database: String,
    ) -> anyhow::Result<Result<Resource<v2::Connection>, v2::Error>> {
        Ok(self
            .open_label(&database)
            .map(Resource::new_own)
            .map_err(v2_types::error))
    }

    async fn execute(
        &mut self,
        connection: Resource<v2::Connection>,
        statement: String,
        parameters: Vec<v2::Value>,
    ) -> anyhow::Result<Result<v2::QueryResult, v2::Error>> {
        let result = self
            .execute_sync(connection.rep(), &statement, v2_types::params(parameters))
            .await;
        Ok(result.map(v2_types::result).map_err(v2_types::error))
    }

    async fn drop(&mut self, connection: Resource<v2::Connection>) -> anyhow::Result<()> {
        self.open.remove(connection.rep());
        Ok(())
    }
}

impl SqliteInstance {
    /// Runs a statement for the synchronous (non-`async` WIT) functions.
    async fn execute_sync(
        &mut self,
        handle: u32,
        statement: &str,
        parameters: Vec<SqlValue>,
    ) -> Result<kiln_state::QueryResult, Failure> {
        let connection = self.connection(handle)?;
        let result = execute(&connection, statement, parameters).await?;
        self.record(handle, &result);
        Ok(result)
    }
}

impl v3::Host for SqliteInstance {}

impl v3::HostConnection for SqliteInstance {
    async fn open(
        &mut self,
        database: String,
    ) -> anyhow::Result<Result<Resource<v3::Connection>, v3::Error>> {
        Ok(self
            .open_label(&database)
            .map(Resource::new_own)
            .map_err(v3_types::error))
    }

    async fn execute(
        &mut self,
        connection: Resource<v3::Connection>,
        statement: String,
        parameters: Vec<v3::Value>,
    ) -> anyhow::Result<Result<v3::QueryResult, v3::Error>> {
        let result = self
            .execute_sync(connection.rep(), &statement, v3_types::params(parameters))
            .await;
        Ok(result.map(v3_types::result).map_err(v3_types::error))
    }

    async fn last_insert_rowid(
        &mut self,
        connection: Resource<v3::Connection>,
    ) -> anyhow::Result<i64> {
        Ok(self
            .connection(connection.rep())
            .map_or(0, |c| c.last_insert_rowid))
    }

    async fn changes(&mut self, connection: Resource<v3::Connection>) -> anyhow::Result<u64> {
        Ok(self.connection(connection.rep()).map_or(0, |c| c.changes))
    }

    async fn drop(&mut self, connection: Resource<v3::Connection>) -> anyhow::Result<()> {
        self.open.remove(connection.rep());
        Ok(())
    }
}

type RowsAndOutcome = (
    Vec<String>,
    StreamReader<v3::RowResult>,
    FutureReader<Result<(), v3::Error>>,
);

impl<T> v3::HostConnectionWithStore<T> for HasSqlite {
    async fn open_async(
        accessor: &Accessor<T, Self>,
        database: String,
    ) -> anyhow::Result<Result<Resource<v3::Connection>, v3::Error>> {
        let opened = accessor.with(|mut access| access.get().open_label(&database));
        Ok(opened.map(Resource::new_own).map_err(v3_types::error))
    }

    async fn execute_async(
        accessor: &Accessor<T, Self>,
        connection: Resource<v3::Connection>,
        statement: String,
        parameters: Vec<v3::Value>,
    ) -> anyhow::Result<Result<RowsAndOutcome, v3::Error>> {
        let handle = connection.rep();
        let result = match accessor.with(|mut access| access.get().connection(handle)) {
            Ok(connection) => execute(&connection, &statement, v3_types::params(parameters)).await,
            Err(failure) => Err(failure),
        };
        let result = match result {
            Ok(result) => result,
            Err(failure) => return Ok(Err(v3_types::error(failure))),
        };
        accessor.with(|mut access| {
            access.get().record(handle, &result);
            let rows: Vec<v3::RowResult> = result.rows.into_iter().map(v3_types::row).collect();
            let rows = StreamReader::new(&mut access, rows)?;
            let outcome =
                FutureReader::new(&mut access, async { Ok::<_, wasmtime::Error>(Ok(())) })?;
            Ok(Ok((result.columns, rows, outcome)))
        })
    }

    async fn last_insert_rowid_async(
        accessor: &Accessor<T, Self>,
        connection: Resource<v3::Connection>,
    ) -> anyhow::Result<i64> {
        Ok(accessor.with(|mut access| {
            access
                .get()
                .connection(connection.rep())
                .map_or(0, |c| c.last_insert_rowid)
        }))
    }

    async fn changes_async(
        accessor: &Accessor<T, Self>,
        connection: Resource<v3::Connection>,
    ) -> anyhow::Result<u64> {
        Ok(accessor.with(|mut access| {
            access
                .get()
                .connection(connection.rep())
                .map_or(0, |c| c.changes)
        }))
    }
}
