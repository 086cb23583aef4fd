//! `fermyon:spin/postgres@2.0.0` (Spin SDKs 2 to 5), with `rdbms-types`: no date and time
//! types (such columns are `unsupported`); unsigned parameters go as the next wider signed type.

use kiln_world::v2::postgres::{self, Connection};
use kiln_world::v2::rdbms_types::{
    self, Column, DbDataType, DbValue, Error, ParameterValue, RowSet,
};
use wasmtime::component::Resource;

use super::client::{self, ColumnType, Failure, Value};
use super::{connection_resource, PgInstance};

type Outcome<T> = anyhow::Result<Result<T, Error>>;

fn param(value: ParameterValue) -> Result<Value, Failure> {
    Ok(match value {
        ParameterValue::Boolean(v) => Value::Bool(v),
        ParameterValue::Int8(v) => Value::I8(v),
        ParameterValue::Int16(v) => Value::I16(v),
        ParameterValue::Int32(v) => Value::I32(v),
        ParameterValue::Int64(v) => Value::I64(v),
        ParameterValue::Uint8(v) => Value::I16(v.into()),
        ParameterValue::Uint16(v) => Value::I32(v.into()),
        ParameterValue::Uint32(v) => Value::I64(v.into()),
        ParameterValue::Uint64(v) => {
            Value::I64(i64::try_from(v).map_err(|_| {
                Failure::BadParameter(format!("{v} does not fit PostgreSQL's bigint"))
            })?)
        }
        ParameterValue::Floating32(v) => Value::F32(v),
        ParameterValue::Floating64(v) => Value::F64(v),
        ParameterValue::Str(v) => Value::Str(v),
        ParameterValue::Binary(v) => Value::Binary(v),
        ParameterValue::DbNull => Value::Null,
    })
}

fn db_value(value: Value) -> DbValue {
    match value {
        Value::Null => DbValue::DbNull,
        Value::Bool(v) => DbValue::Boolean(v),
        Value::I8(v) => DbValue::Int8(v),
        Value::I16(v) => DbValue::Int16(v),
        Value::I32(v) => DbValue::Int32(v),
        Value::I64(v) => DbValue::Int64(v),
        Value::F32(v) => DbValue::Floating32(v),
        Value::F64(v) => DbValue::Floating64(v),
        Value::Str(v) => DbValue::Str(v),
        Value::Binary(v) => DbValue::Binary(v),
        _ => DbValue::Unsupported,
    }
}

fn data_type(ty: ColumnType) -> DbDataType {
    match ty {
        ColumnType::Bool => DbDataType::Boolean,
        ColumnType::I8 => DbDataType::Int8,
        ColumnType::I16 => DbDataType::Int16,
        ColumnType::I32 => DbDataType::Int32,
        ColumnType::I64 => DbDataType::Int64,
        ColumnType::F32 => DbDataType::Floating32,
        ColumnType::F64 => DbDataType::Floating64,
        ColumnType::Str => DbDataType::Str,
        ColumnType::Binary => DbDataType::Binary,
        _ => DbDataType::Other,
    }
}

fn params(values: Vec<ParameterValue>) -> Result<Vec<Value>, Failure> {
    values.into_iter().map(param).collect()
}

connection_resource!();

/// The types shared with `fermyon:spin/mysql@2.0.0`; no functions.
impl rdbms_types::Host for PgInstance {}
