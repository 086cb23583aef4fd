//! Statements on a pooled `mysql_async` connection (prepared, so values arrive typed), with
//! parameters and results in version-neutral types ([`Value`], [`ColumnType`], [`Rows`]).

use mysql_async::consts::{ColumnFlags, ColumnType as Wire};
use mysql_async::prelude::Queryable as _;
use mysql_async::{Column, Conn, Params, Row, Value as MyValue};

/// The character set MySQL reports for binary strings (`BLOB`, `VARBINARY`).
const BINARY_CHARSET: u16 = 63;

/// A parameter or a column value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    F32(f32),
    F64(f64),
    Str(String),
    Binary(Vec<u8>),
    /// A column whose type the interfaces cannot carry (decimals, dates, bits, ...).
    Unsupported,
}

/// A column's type, as far as the interfaces distinguish them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnType {
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F32,
    F64,
    Str,
    Binary,
    Other,
}

/// A query's columns and rows.
pub(crate) struct Rows {
    pub(crate) columns: Vec<(String, ColumnType)>,
    pub(crate) rows: Vec<Vec<Value>>,
}

/// Why a call failed: the variants both interface versions' `error` have.
#[derive(Debug)]
pub(crate) enum Failure {
    ConnectionFailed(String),
    QueryFailed(String),
    ValueConversionFailed(String),
    Other(String),
}

fn to_mysql(value: Value) -> MyValue {
    match value {
        Value::Null | Value::Unsupported => MyValue::NULL,
        Value::Bool(v) => MyValue::Int(v.into()),
        Value::I8(v) => MyValue::Int(v.into()),
        Value::I16(v) => MyValue::Int(v.into()),
        Value::I32(v) => MyValue::Int(v.into()),
        Value::I64(v) => MyValue::Int(v),
        Value::U8(v) => MyValue::UInt(v.into()),
        Value::U16(v) => MyValue::UInt(v.into()),
        Value::U32(v) => MyValue::UInt(v.into()),
        Value::U64(v) => MyValue::UInt(v),
        Value::F32(v) => MyValue::Float(v),
        Value::F64(v) => MyValue::Double(v),
        Value::Str(v) => MyValue::Bytes(v.into_bytes()),
        Value::Binary(v) => MyValue::Bytes(v),
    }
}

fn params(values: Vec<Value>) -> Params {
    if values.is_empty() {
        Params::Empty
    } else {
        Params::Positional(values.into_iter().map(to_mysql).collect())
    }
}

/// The server's own message for its errors; the client's description otherwise.
fn message(e: &mysql_async::Error) -> String {
    match e {
        mysql_async::Error::Server(server) => server.message.clone(),
        other => other.to_string(),
    }
}

/// A failed statement: the connection's loss is `connection-failed`, anything else
/// `query-failed`.
fn statement_failed(e: mysql_async::Error) -> Failure {
    match e {
        mysql_async::Error::Io(_) | mysql_async::Error::Driver(_) => {
            Failure::ConnectionFailed(message(&e))
        }
        other => Failure::QueryFailed(message(&other)),
    }
}

/// Runs a statement that returns rows.
pub(crate) async fn query(
    conn: &mut Conn,
    statement: &str,
    values: Vec<Value>,
) -> Result<Rows, Failure> {
    let mut result = conn
        .exec_iter(statement, params(values))
        .await
        .map_err(statement_failed)?;
    let columns: Vec<(String, ColumnType)> = result
        .columns()
        .map(|columns| {
            columns
                .iter()
                .map(|c| (c.name_str().into_owned(), column_type(c)))
                .collect()
        })
        .unwrap_or_default();
    let rows: Vec<Row> = result.collect().await.map_err(statement_failed)?;
    result.drop_result().await.map_err(statement_failed)?;
    let rows = rows
        .into_iter()
        .map(|row| row_values(row, &columns))
        .collect::<Result<_, _>>()?;
    Ok(Rows { columns, rows })
}

/// Runs a statement for its effect.
pub(crate) async fn execute(
    conn: &mut Conn,
    statement: &str,
    values: Vec<Value>,
) -> Result<(), Failure> {
    conn.exec_drop(statement, params(values))
        .await
        .map_err(statement_failed)
}

/// The interface type of a column, as Spin maps them: integers by width and sign, `FLOAT` and
/// `DOUBLE`, character strings, and binary strings (by their character set).
fn column_type(column: &Column) -> ColumnType {
    let unsigned = column.flags().contains(ColumnFlags::UNSIGNED_FLAG);
    let binary = column.character_set() == BINARY_CHARSET;
    match (column.column_type(), unsigned) {
        (Wire::MYSQL_TYPE_TINY, false) => ColumnType::I8,
        (Wire::MYSQL_TYPE_TINY, true) => ColumnType::U8,
        (Wire::MYSQL_TYPE_SHORT, false) => ColumnType::I16,
        (Wire::MYSQL_TYPE_SHORT, true) => ColumnType::U16,
        (Wire::MYSQL_TYPE_INT24 | Wire::MYSQL_TYPE_LONG, false) => ColumnType::I32,
        (Wire::MYSQL_TYPE_INT24 | Wire::MYSQL_TYPE_LONG, true) => ColumnType::U32,
        (Wire::MYSQL_TYPE_LONGLONG, false) => ColumnType::I64,
        (Wire::MYSQL_TYPE_LONGLONG, true) => ColumnType::U64,
        (Wire::MYSQL_TYPE_FLOAT, _) => ColumnType::F32,
        (Wire::MYSQL_TYPE_DOUBLE, _) => ColumnType::F64,
        (
            Wire::MYSQL_TYPE_TINY_BLOB
            | Wire::MYSQL_TYPE_MEDIUM_BLOB
            | Wire::MYSQL_TYPE_LONG_BLOB
            | Wire::MYSQL_TYPE_BLOB
            | Wire::MYSQL_TYPE_STRING
            | Wire::MYSQL_TYPE_VAR_STRING
            | Wire::MYSQL_TYPE_VARCHAR,
            _,
        ) => {
            if binary {
                ColumnType::Binary
            } else {
                ColumnType::Str
            }
        }
        _ => ColumnType::Other,
    }
}

fn row_values(mut row: Row, columns: &[(String, ColumnType)]) -> Result<Vec<Value>, Failure> {
    columns
        .iter()
        .enumerate()
        .map(|(i, (name, ty))| {
            let value: MyValue = row.take(i).unwrap_or(MyValue::NULL);
            column_value(value, *ty)
                .map_err(|e| Failure::ValueConversionFailed(format!("column {name}: {e}")))
        })
        .collect()
}

fn column_value(value: MyValue, ty: ColumnType) -> Result<Value, mysql_async::FromValueError> {
    use mysql_async::from_value_opt as get;
    if value == MyValue::NULL {
        return Ok(Value::Null);
    }
    Ok(match ty {
        ColumnType::I8 => Value::I8(get(value)?),
        ColumnType::I16 => Value::I16(get(value)?),
        ColumnType::I32 => Value::I32(get(value)?),
        ColumnType::I64 => Value::I64(get(value)?),
        ColumnType::U8 => Value::U8(get(value)?),
        ColumnType::U16 => Value::U16(get(value)?),
        ColumnType::U32 => Value::U32(get(value)?),
        ColumnType::U64 => Value::U64(get(value)?),
        ColumnType::F32 => Value::F32(get(value)?),
        ColumnType::F64 => Value::F64(get(value)?),
        ColumnType::Str => Value::Str(get(value)?),
        ColumnType::Binary => Value::Binary(get(value)?),
        ColumnType::Other => Value::Unsupported,
    })
}
