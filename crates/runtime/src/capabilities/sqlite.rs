//! SQLite: `fermyon:spin/sqlite@2.0.0`.
//!
//! Grants: the component's `sqlite_databases` labels. Backends: the `default` database is a
//! SQLite file under the app's state directory (`.kiln/sqlite_db.db`). Per app: databases are
//! opened once ([`embedded_databases`]); per instance: a table of open connections.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use kiln_state::{SqlDatabase, SqlValue, SqliteDatabase};
use kiln_world::v2::sqlite::{self as v2, Error, QueryResult, RowResult, Value};
use wasmtime::component::{HasData, Resource};

use super::labels::{Handles, LabelGrant, Labelled, Refused};

/// Every database an app defines, by label.
pub type SqliteDatabases = Labelled<Arc<dyn SqlDatabase>>;
/// The databases one component may open.
pub type SqliteGrant = LabelGrant<Arc<dyn SqlDatabase>>;

/// Most connections one instance may hold open at once.
const MAX_OPEN_CONNECTIONS: usize = 256;

/// The embedded default: database `default` in `<state_dir>/sqlite_db.db`.
pub fn embedded_databases(state_dir: &Path) -> anyhow::Result<SqliteDatabases> {
    let default: Arc<dyn SqlDatabase> =
        Arc::new(SqliteDatabase::open(&state_dir.join("sqlite_db.db"))?);
    Ok(Labelled::new(HashMap::from([(
        "default".to_string(),
        default,
    )])))
}

/// Per-instance state: the grant and the connections opened so far.
pub struct SqliteInstance {
    grant: SqliteGrant,
    component_id: Arc<str>,
    open: Handles<Arc<dyn SqlDatabase>>,
}

impl SqliteInstance {
    pub(crate) fn new(component_id: Arc<str>, grant: SqliteGrant) -> Self {
        Self {
            grant,
            component_id,
            open: Handles::new(MAX_OPEN_CONNECTIONS),
        }
    }
}

/// `HasData` marker for linking.
pub(crate) struct HasSqlite;

impl HasData for HasSqlite {
    type Data<'a> = &'a mut SqliteInstance;
}

impl v2::Host for SqliteInstance {}

impl v2::HostConnection for SqliteInstance {
    async fn open(
        &mut self,
        database: String,
    ) -> anyhow::Result<Result<Resource<v2::Connection>, Error>> {
        let db = match self.grant.open(&database) {
            Ok(db) => db,
            Err(refused) => {
                tracing::warn!(component_id = %self.component_id, "SQLite database \"{database}\" refused: {refused:?}");
                return Ok(Err(match refused {
                    Refused::Undefined => Error::NoSuchDatabase,
                    Refused::NotGranted => Error::AccessDenied,
                }));
            }
        };
        Ok(match self.open.insert(db) {
            Some(handle) => Ok(Resource::new_own(handle)),
            None => Err(Error::Io("too many open connections".into())),
        })
    }

    async fn execute(
        &mut self,
        connection: Resource<v2::Connection>,
        statement: String,
        parameters: Vec<Value>,
    ) -> anyhow::Result<Result<QueryResult, Error>> {
        let Some(db) = self.open.get(connection.rep()).cloned() else {
            return Ok(Err(Error::InvalidConnection));
        };
        let parameters = parameters.into_iter().map(to_sql).collect();
        Ok(match db.execute(&statement, parameters).await {
            Ok(result) => Ok(QueryResult {
                columns: result.columns,
                rows: result
                    .rows
                    .into_iter()
                    .map(|row| RowResult {
                        values: row.into_iter().map(from_sql).collect(),
                    })
                    .collect(),
            }),
            Err(e) => Err(Error::Io(format!("{e:#}"))),
        })
    }

    async fn drop(&mut self, connection: Resource<v2::Connection>) -> anyhow::Result<()> {
        self.open.remove(connection.rep());
        Ok(())
    }
}

fn to_sql(value: Value) -> SqlValue {
    match value {
        Value::Integer(i) => SqlValue::Integer(i),
        Value::Real(f) => SqlValue::Real(f),
        Value::Text(s) => SqlValue::Text(s),
        Value::Blob(b) => SqlValue::Blob(b),
        Value::Null => SqlValue::Null,
    }
}

fn from_sql(value: SqlValue) -> Value {
    match value {
        SqlValue::Integer(i) => Value::Integer(i),
        SqlValue::Real(f) => Value::Real(f),
        SqlValue::Text(s) => Value::Text(s),
        SqlValue::Blob(b) => Value::Blob(b),
        SqlValue::Null => Value::Null,
    }
}
