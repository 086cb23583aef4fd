//! `spin:postgres/postgres@3.0.0` (Spin 3 SDKs): `postgres@2.0.0` plus dates, times, date-times
//! and timestamps.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use kiln_world::v3::postgres3::{
    self as postgres, Column, Connection, DbDataType, DbValue, Error, ParameterValue, RowSet,
};
use wasmtime::component::Resource;

use super::client::{self, ColumnType, Failure, Value};
use super::{connection_resource, PgInstance};

type Outcome<T> = anyhow::Result<Result<T, Error>>;

pub(super) fn date((year, month, day): (i32, u8, u8)) -> Result<NaiveDate, Failure> {
    NaiveDate::from_ymd_opt(year, month.into(), day.into())
        .ok_or_else(|| Failure::BadParameter(format!("{year}-{month}-{day} is not a date")))
}

pub(super) fn time((hour, minute, second, nanos): (u8, u8, u8, u32)) -> Result<NaiveTime, Failure> {
    NaiveTime::from_hms_nano_opt(hour.into(), minute.into(), second.into(), nanos).ok_or_else(
        || Failure::BadParameter(format!("{hour}:{minute}:{second}.{nanos} is not a time")),
    )
}

fn param(value: ParameterValue) -> Result<Value, Failure> {
    Ok(match value {
        ParameterValue::Boolean(v) => Value::Bool(v),
        ParameterValue::Int8(v) => Value::I8(v),
        ParameterValue::Int16(v) => Value::I16(v),
        ParameterValue::Int32(v) => Value::I32(v),
        ParameterValue::Int64(v) => Value::I64(v),
        ParameterValue::Floating32(v) => Value::F32(v),
        ParameterValue::Floating64(v) => Value::F64(v),
        ParameterValue::Str(v) => Value::Str(v),
        ParameterValue::Binary(v) => Value::Binary(v),
        ParameterValue::Date(v) => Value::Date(date(v)?),
        ParameterValue::Time(v) => Value::Time(time(v)?),
        ParameterValue::Datetime((y, mo, d, h, mi, s, ns)) => {
            Value::DateTime(NaiveDateTime::new(date((y, mo, d))?, time((h, mi, s, ns))?))
        }
        ParameterValue::Timestamp(v) => Value::Timestamp(v),
        ParameterValue::DbNull => Value::Null,
    })
}

pub(super) fn date_tuple(d: NaiveDate) -> (i32, u8, u8) {
    // Months and days always fit a byte.
    (d.year(), d.month() as u8, d.day() as u8)
}

pub(super) fn time_tuple(t: NaiveTime) -> (u8, u8, u8, u32) {
    // Hours, minutes and seconds always fit a byte.
    (
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
        t.nanosecond(),
    )
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
        Value::Date(d) => DbValue::Date(date_tuple(d)),
        Value::Time(t) => DbValue::Time(time_tuple(t)),
        Value::DateTime(dt) => {
            let (y, mo, d) = date_tuple(dt.date());
            let (h, mi, s, ns) = time_tuple(dt.time());
            DbValue::Datetime((y, mo, d, h, mi, s, ns))
        }
        Value::Timestamp(v) => DbValue::Timestamp(v),
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
        ColumnType::Date => DbDataType::Date,
        ColumnType::Time => DbDataType::Time,
        ColumnType::DateTime => DbDataType::Datetime,
        ColumnType::Timestamp => DbDataType::Timestamp,
        _ => DbDataType::Other,
    }
}

fn params(values: Vec<ParameterValue>) -> Result<Vec<Value>, Failure> {
    values.into_iter().map(param).collect()
}

connection_resource!();
