//! Queries on a pooled `tokio-postgres` client, with parameters and results in
//! version-neutral types ([`Value`], [`ColumnType`], [`Rows`]).

use std::error::Error as _;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use tokio_postgres::types::{FromSql, ToSql, Type};
use tokio_postgres::{Client, Row};

use super::wire::{Interval, Null, Range, Raw};

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
    Uuid(uuid::Uuid),
    Jsonb(serde_json::Value),
    Decimal(Decimal),
    RangeI32(Range<i32>),
    RangeI64(Range<i64>),
    RangeDecimal(Range<Decimal>),
    ArrayI32(Vec<Option<i32>>),
    ArrayI64(Vec<Option<i64>>),
    ArrayDecimal(Vec<Option<Decimal>>),
    ArrayStr(Vec<Option<String>>),
    Interval(Interval),
    /// A column whose type the interfaces cannot carry: its bytes as the server sent them.
    Unsupported(Vec<u8>),
}

/// A column's type, as far as the interfaces distinguish them.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    Uuid,
    Jsonb,
    Decimal,
    RangeI32,
    RangeI64,
    RangeDecimal,
    ArrayI32,
    ArrayI64,
    ArrayDecimal,
    ArrayStr,
    Interval,
    /// Any other type, by its PostgreSQL name.
    Other(String),
}

/// A query's columns and rows.
pub(crate) struct Rows {
    pub(crate) columns: Vec<(String, ColumnType)>,
    pub(crate) rows: Vec<Vec<Value>>,
}

/// The server's report of a failed statement.
#[derive(Debug)]
pub(crate) struct DbError {
    pub(crate) severity: String,
    pub(crate) code: String,
    pub(crate) message: String,
    pub(crate) detail: Option<String>,
    /// The other fields the server filled in (`hint`, `position`, `table`, ...).
    pub(crate) extras: Vec<(String, String)>,
}

/// Why a call failed: the variants every interface version's `error` has.
#[derive(Debug)]
pub(crate) enum Failure {
    ConnectionFailed(String),
    BadParameter(String),
    /// The message, and the server's report when it sent one.
    QueryFailed(String, Option<Box<DbError>>),
    ValueConversionFailed(String),
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
        Value::Uuid(v) => Box::new(v),
        Value::Jsonb(v) => Box::new(v),
        Value::Decimal(v) => Box::new(v),
        Value::RangeI32(v) => Box::new(v),
        Value::RangeI64(v) => Box::new(v),
        Value::RangeDecimal(v) => Box::new(v),
        Value::ArrayI32(v) => Box::new(v),
        Value::ArrayI64(v) => Box::new(v),
        Value::ArrayDecimal(v) => Box::new(v),
        Value::ArrayStr(v) => Box::new(v),
        Value::Interval(v) => Box::new(v),
        Value::Unsupported(_) => {
            return Err(Failure::BadParameter("unsupported parameter".into()));
        }
    })
}

/// A failed statement: the server's message (with its detail), or the client's.
fn query_failed(e: &tokio_postgres::Error) -> Failure {
    let Some(db) = e.as_db_error() else {
        let text = match e.source() {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        };
        return Failure::QueryFailed(text, None);
    };
    let text = match db.detail() {
        Some(detail) => format!("{}: {detail}", db.message()),
        None => db.message().to_string(),
    };
    let position = db.position().map(|p| match p {
        tokio_postgres::error::ErrorPosition::Original(at) => at.to_string(),
        tokio_postgres::error::ErrorPosition::Internal { position, .. } => position.to_string(),
    });
    let extras = [
        ("hint", db.hint().map(str::to_string)),
        ("position", position),
        ("where", db.where_().map(str::to_string)),
        ("schema", db.schema().map(str::to_string)),
        ("table", db.table().map(str::to_string)),
        ("column", db.column().map(str::to_string)),
        ("datatype", db.datatype().map(str::to_string)),
        ("constraint", db.constraint().map(str::to_string)),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some((name.to_string(), value?)))
    .collect();
    Failure::QueryFailed(
        text,
        Some(Box::new(DbError {
            severity: db.severity().to_string(),
            code: db.code().code().to_string(),
            message: db.message().to_string(),
            detail: db.detail().map(str::to_string),
            extras,
        })),
    )
}

fn to_sql_params(params: Vec<Value>) -> Result<Vec<Box<dyn ToSql + Sync + Send>>, Failure> {
    params.into_iter().map(to_sql).collect()
}

/// Runs a statement that returns rows.
pub(crate) async fn query(
    client: &Client,
    statement: &str,
    params: Vec<Value>,
) -> Result<Rows, Failure> {
    let params = to_sql_params(params)?;
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| &**p as _).collect();
    let prepared = client
        .prepare(statement)
        .await
        .map_err(|e| query_failed(&e))?;
    let columns = prepared
        .columns()
        .iter()
        .map(|c| (c.name().to_string(), column_type(c.type_())))
        .collect();
    let rows = client
        .query(&prepared, &refs)
        .await
        .map_err(|e| query_failed(&e))?;
    let rows = rows.iter().map(row_values).collect::<Result<_, _>>()?;
    Ok(Rows { columns, rows })
}

/// Runs a statement; the number of rows it changed.
pub(crate) async fn execute(
    client: &Client,
    statement: &str,
    params: Vec<Value>,
) -> Result<u64, Failure> {
    let params = to_sql_params(params)?;
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| &**p as _).collect();
    client
        .execute(statement, &refs)
        .await
        .map_err(|e| query_failed(&e))
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
        Type::UUID => ColumnType::Uuid,
        Type::JSONB | Type::JSON => ColumnType::Jsonb,
        Type::NUMERIC => ColumnType::Decimal,
        Type::INT4_RANGE => ColumnType::RangeI32,
        Type::INT8_RANGE => ColumnType::RangeI64,
        Type::NUM_RANGE => ColumnType::RangeDecimal,
        Type::INT4_ARRAY => ColumnType::ArrayI32,
        Type::INT8_ARRAY => ColumnType::ArrayI64,
        Type::NUMERIC_ARRAY => ColumnType::ArrayDecimal,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => ColumnType::ArrayStr,
        Type::INTERVAL => ColumnType::Interval,
        _ => ColumnType::Other(ty.name().to_string()),
    }
}

fn row_values(row: &Row) -> Result<Vec<Value>, Failure> {
    (0..row.len())
        .map(|i| {
            column_value(row, i).map_err(|e| {
                let name = row.columns()[i].name();
                Failure::ValueConversionFailed(format!("column {name}: {e}"))
            })
        })
        .collect()
}

fn column_value(row: &Row, i: usize) -> Result<Value, tokio_postgres::Error> {
    fn get<'a, T: FromSql<'a>>(
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
        ColumnType::Uuid => get(row, i, Value::Uuid),
        ColumnType::Jsonb => get(row, i, Value::Jsonb),
        ColumnType::Decimal => get(row, i, Value::Decimal),
        ColumnType::RangeI32 => get(row, i, Value::RangeI32),
        ColumnType::RangeI64 => get(row, i, Value::RangeI64),
        ColumnType::RangeDecimal => get(row, i, Value::RangeDecimal),
        ColumnType::ArrayI32 => get(row, i, Value::ArrayI32),
        ColumnType::ArrayI64 => get(row, i, Value::ArrayI64),
        ColumnType::ArrayDecimal => get(row, i, Value::ArrayDecimal),
        ColumnType::ArrayStr => get(row, i, Value::ArrayStr),
        ColumnType::Interval => get(row, i, Value::Interval),
        ColumnType::Other(_) => get(row, i, |raw: Raw| Value::Unsupported(raw.0)),
    }
}
