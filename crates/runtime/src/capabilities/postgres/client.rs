//! Queries on a pooled `tokio-postgres` client, with parameters and results in
//! version-neutral types ([`Value`], [`ColumnType`], [`Rows`]).

use std::error::Error as _;

use bytes::BytesMut;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use tokio_postgres::{Client, Row};

/// A parameter or a column value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    Str(String),
    Binary(Vec<u8>),
    Date(NaiveDate),
    Time(NaiveTime),
    DateTime(NaiveDateTime),
    /// Seconds since the Unix epoch (a `timestamptz`).
    Timestamp(i64),
    /// A column whose type the interface cannot carry.
    Unsupported,
}

/// A column's type, as far as the interfaces distinguish them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnType {
    Bool,
    I8,
    I16,
    I32,
    I64,
    F32,
    F64,
    Str,
    Binary,
    Date,
    Time,
    DateTime,
    Timestamp,
    Other,
}

/// A query's columns and rows.
pub(crate) struct Rows {
    pub(crate) columns: Vec<(String, ColumnType)>,
    pub(crate) rows: Vec<Vec<Value>>,
}

/// Why a call failed: the variants every interface version's `error` has.
#[derive(Debug)]
pub(crate) enum Failure {
    ConnectionFailed(String),
    BadParameter(String),
    QueryFailed(String),
    ValueConversionFailed(String),
}

/// A SQL `NULL` of whatever type the statement wants.
#[derive(Debug)]
struct Null;

impl ToSql for Null {
    fn to_sql(
        &self,
        _: &Type,
        _: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(IsNull::Yes)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn to_sql(value: Value) -> Result<Box<dyn ToSql + Sync + Send>, Failure> {
    Ok(match value {
        Value::Null => Box::new(Null),
        Value::Bool(v) => Box::new(v),
        Value::I8(v) => Box::new(v),
        Value::I16(v) => Box::new(v),
        Value::I32(v) => Box::new(v),
        Value::I64(v) => Box::new(v),
        Value::F32(v) => Box::new(v),
        Value::F64(v) => Box::new(v),
        Value::Str(v) => Box::new(v),
        Value::Binary(v) => Box::new(v),
        Value::Date(v) => Box::new(v),
        Value::Time(v) => Box::new(v),
        Value::DateTime(v) => Box::new(v),
        Value::Timestamp(seconds) => {
            Box::new(DateTime::<Utc>::from_timestamp(seconds, 0).ok_or_else(|| {
                Failure::BadParameter(format!("timestamp {seconds} is out of range"))
            })?)
        }
        Value::Unsupported => {
            return Err(Failure::BadParameter("unsupported parameter".into()));
        }
    })
}

/// The message of a database error, with its detail when there is one.
fn message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{}: {detail}", db.message()),
            None => db.message().to_string(),
        },
        None => match e.source() {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        },
    }
}

/// Runs a statement that returns rows.
pub(crate) async fn query(
    client: &Client,
    statement: &str,
    params: Vec<Value>,
) -> Result<Rows, Failure> {
    let params = params
        .into_iter()
        .map(to_sql)
        .collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| &**p as _).collect();
    let prepared = client
        .prepare(statement)
        .await
        .map_err(|e| Failure::QueryFailed(message(&e)))?;
    let columns = prepared
        .columns()
        .iter()
        .map(|c| (c.name().to_string(), column_type(c.type_())))
        .collect();
    let rows = client
        .query(&prepared, &refs)
        .await
        .map_err(|e| Failure::QueryFailed(message(&e)))?;
    let rows = rows.iter().map(row_values).collect::<Result<_, _>>()?;
    Ok(Rows { columns, rows })
}

/// Runs a statement; the number of rows it changed.
pub(crate) async fn execute(
    client: &Client,
    statement: &str,
    params: Vec<Value>,
) -> Result<u64, Failure> {
    let params = params
        .into_iter()
        .map(to_sql)
        .collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| &**p as _).collect();
    client
        .execute(statement, &refs)
        .await
        .map_err(|e| Failure::QueryFailed(message(&e)))
}

fn column_type(ty: &Type) -> ColumnType {
    match *ty {
        Type::BOOL => ColumnType::Bool,
        Type::CHAR => ColumnType::I8,
        Type::INT2 => ColumnType::I16,
        Type::INT4 => ColumnType::I32,
        Type::INT8 => ColumnType::I64,
        Type::FLOAT4 => ColumnType::F32,
        Type::FLOAT8 => ColumnType::F64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => ColumnType::Str,
        Type::BYTEA => ColumnType::Binary,
        Type::DATE => ColumnType::Date,
        Type::TIME => ColumnType::Time,
        Type::TIMESTAMP => ColumnType::DateTime,
        Type::TIMESTAMPTZ => ColumnType::Timestamp,
        _ => ColumnType::Other,
    }
}

fn row_values(row: &Row) -> Result<Vec<Value>, Failure> {
    (0..row.len())
        .map(|i| column_value(row, i))
        .collect::<Result<_, tokio_postgres::Error>>()
        .map_err(|e| Failure::ValueConversionFailed(message(&e)))
}

fn column_value(row: &Row, i: usize) -> Result<Value, tokio_postgres::Error> {
    fn get<'a, T: tokio_postgres::types::FromSql<'a>>(
        row: &'a Row,
        i: usize,
        wrap: impl FnOnce(T) -> Value,
    ) -> Result<Value, tokio_postgres::Error> {
        Ok(row.try_get::<_, Option<T>>(i)?.map_or(Value::Null, wrap))
    }
    match column_type(row.columns()[i].type_()) {
        ColumnType::Bool => get(row, i, Value::Bool),
        ColumnType::I8 => get(row, i, Value::I8),
        ColumnType::I16 => get(row, i, Value::I16),
        ColumnType::I32 => get(row, i, Value::I32),
        ColumnType::I64 => get(row, i, Value::I64),
        ColumnType::F32 => get(row, i, Value::F32),
        ColumnType::F64 => get(row, i, Value::F64),
        ColumnType::Str => get(row, i, Value::Str),
        ColumnType::Binary => get(row, i, Value::Binary),
        ColumnType::Date => get(row, i, Value::Date),
        ColumnType::Time => get(row, i, Value::Time),
        ColumnType::DateTime => get(row, i, Value::DateTime),
        ColumnType::Timestamp => get(row, i, |t: DateTime<Utc>| Value::Timestamp(t.timestamp())),
        ColumnType::Other => Ok(Value::Unsupported),
    }
}
