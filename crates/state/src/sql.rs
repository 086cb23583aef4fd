//! SQL databases.

use std::path::Path;

use async_trait::async_trait;
use rusqlite::types::{Value, ValueRef};

use crate::sqlite_file::SharedConnection;

/// A value in a SQL parameter or result row.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// A 64-bit integer.
    Integer(i64),
    /// A double.
    Real(f64),
    /// UTF-8 text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
    /// NULL.
    Null,
}

/// What a statement returned: column names and rows (empty for statements that return none),
/// and what it changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryResult {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// Rows, each with one value per column.
    pub rows: Vec<Vec<SqlValue>>,
    /// The rowid of the last row this statement inserted, if it inserted any.
    pub last_insert_rowid: Option<i64>,
    /// Rows this statement inserted, updated or deleted.
    pub changes: u64,
}

/// A SQL database. Errors carry the database's message.
#[async_trait]
pub trait SqlDatabase: Send + Sync {
    /// Runs one statement with positional parameters.
    async fn execute(
        &self,
        statement: &str,
        parameters: Vec<SqlValue>,
    ) -> anyhow::Result<QueryResult>;
    /// Runs a batch of statements (setup scripts), with no parameters and no results.
    async fn execute_batch(&self, statements: &str) -> anyhow::Result<()>;
}

/// A SQLite database file.
#[derive(Clone)]
pub struct SqliteDatabase {
    conn: SharedConnection,
}

impl SqliteDatabase {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            conn: SharedConnection::open(path, "")?,
        })
    }
}

#[async_trait]
impl SqlDatabase for SqliteDatabase {
    async fn execute(
        &self,
        statement: &str,
        parameters: Vec<SqlValue>,
    ) -> anyhow::Result<QueryResult> {
        let statement = statement.to_string();
        self.conn
            .run(move |c| {
                // Measured around this statement alone: the connection is shared.
                let (total_before, rowid_before) = (c.total_changes(), c.last_insert_rowid());
                let mut prepared = c.prepare_cached(&statement)?;
                let columns: Vec<String> = prepared.column_names().map(String::from).collect();
                let parameters: Vec<Value> = parameters.into_iter().map(to_sqlite).collect();
                let mut rows = prepared.query(rusqlite::params_from_iter(parameters))?;
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    let values = (0..columns.len())
                        .map(|i| row.get_ref(i).map(from_sqlite))
                        .collect::<Result<Vec<_>, _>>()?;
                    out.push(values);
                }
                drop(rows);
                drop(prepared);
                let rowid = c.last_insert_rowid();
                Ok(QueryResult {
                    columns,
                    rows: out,
                    last_insert_rowid: (rowid != rowid_before).then_some(rowid),
                    changes: c.total_changes().saturating_sub(total_before),
                })
            })
            .await
    }

    async fn execute_batch(&self, statements: &str) -> anyhow::Result<()> {
        let statements = statements.to_string();
        self.conn
            .run(move |c| Ok(c.execute_batch(&statements)?))
            .await
    }
}

fn to_sqlite(value: SqlValue) -> Value {
    match value {
        SqlValue::Integer(i) => Value::Integer(i),
        SqlValue::Real(f) => Value::Real(f),
        SqlValue::Text(s) => Value::Text(s),
        SqlValue::Blob(b) => Value::Blob(b),
        SqlValue::Null => Value::Null,
    }
}

fn from_sqlite(value: ValueRef<'_>) -> SqlValue {
    match value {
        ValueRef::Integer(i) => SqlValue::Integer(i),
        ValueRef::Real(f) => SqlValue::Real(f),
        ValueRef::Text(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => SqlValue::Blob(b.to_vec()),
        ValueRef::Null => SqlValue::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn statements_with_every_value_type() {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteDatabase::open(&dir.path().join("db.sqlite")).unwrap();
        db.execute_batch("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)")
            .await
            .unwrap();
        let row = vec![
            SqlValue::Integer(-7),
            SqlValue::Real(1.5),
            SqlValue::Text("é".into()),
            SqlValue::Blob(vec![0, 255]),
            SqlValue::Null,
        ];
        let inserted = db
            .execute("INSERT INTO t VALUES (?, ?, ?, ?, ?)", row.clone())
            .await
            .unwrap();
        assert!(inserted.rows.is_empty());
        assert_eq!((inserted.last_insert_rowid, inserted.changes), (Some(1), 1));
        let result = db
            .execute("SELECT * FROM t WHERE i = ?", vec![SqlValue::Integer(-7)])
            .await
            .unwrap();
        assert_eq!(result.columns, ["i", "r", "s", "b", "n"]);
        assert_eq!((result.last_insert_rowid, result.changes), (None, 0));
        assert_eq!(result.rows, [row]);
    }

    #[tokio::test]
    async fn a_bad_statement_is_an_error_with_sqlites_message() {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteDatabase::open(&dir.path().join("db.sqlite")).unwrap();
        let error = db
            .execute("SELEKT 1", vec![])
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("syntax error"), "{error}");
    }
}
