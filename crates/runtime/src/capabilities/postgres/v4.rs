//! `spin:postgres/postgres@4.2.0` (Spin SDK 5's `pg4` and SDK 7): `postgres@3.0.0` plus uuid,
//! jsonb, decimal, ranges, arrays and intervals, the server's error report, a
//! `connection-builder`, and async variants that stream rows.

use std::str::FromStr as _;

use chrono::NaiveDateTime;
use kiln_world::v3::postgres4::{
    self as postgres, Column, Connection, ConnectionBuilder, DbDataType, DbValue, Error,
    ParameterValue, QueryError, RangeBoundKind, Row, RowSet,
};
use rust_decimal::Decimal;
use wasmtime::component::{Accessor, FutureReader, Resource, StreamReader};

use super::client::{self, ColumnType, Failure, Value};
use super::v3::{date, date_tuple, time, time_tuple};
use super::wire::{Bound, Interval, Range};
use super::{HasPostgres, PgInstance};

type Outcome<T> = anyhow::Result<Result<T, Error>>;

impl From<Failure> for Error {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::ConnectionFailed(m) => Error::ConnectionFailed(m),
            Failure::BadParameter(m) => Error::BadParameter(m),
            Failure::QueryFailed(text, None) => Error::QueryFailed(QueryError::Text(text)),
            Failure::QueryFailed(text, Some(db)) => {
                Error::QueryFailed(QueryError::DbError(postgres::DbError {
                    as_text: text,
                    severity: db.severity,
                    code: db.code,
                    message: db.message,
                    detail: db.detail,
                    extras: db.extras,
                }))
            }
            Failure::ValueConversionFailed(m) => Error::ValueConversionFailed(m),
        }
    }
}

fn decimal(text: &str) -> Result<Decimal, Failure> {
    Decimal::from_str_exact(text)
        .map_err(|e| Failure::BadParameter(format!("{text:?} is not a decimal: {e}")))
}

/// An interface range: each end a value and its kind, or `None` for unbounded.
type WitRange<T> = (Option<(T, RangeBoundKind)>, Option<(T, RangeBoundKind)>);

fn range<T, U>(
    (lower, upper): WitRange<T>,
    convert: impl Fn(T) -> Result<U, Failure>,
) -> Result<Range<U>, Failure> {
    let bound = |end: Option<(T, RangeBoundKind)>| -> Result<Option<Bound<U>>, Failure> {
        end.map(|(value, kind)| Ok((convert(value)?, kind == RangeBoundKind::Inclusive)))
            .transpose()
    };
    Ok(Range(Some((bound(lower)?, bound(upper)?))))
}

/// The interface form of `range`; an empty range is `[zero, zero)`, which PostgreSQL reads back
/// as empty.
fn wit_range<T, U: Clone>(range: Range<T>, zero: U, convert: impl Fn(T) -> U) -> WitRange<U> {
    let bound = |end: Option<Bound<T>>| {
        end.map(|(value, inclusive)| {
            let kind = if inclusive {
                RangeBoundKind::Inclusive
            } else {
                RangeBoundKind::Exclusive
            };
            (convert(value), kind)
        })
    };
    match range.0 {
        Some((lower, upper)) => (bound(lower), bound(upper)),
        None => (
            Some((zero.clone(), RangeBoundKind::Exclusive)),
            Some((zero, RangeBoundKind::Exclusive)),
        ),
    }
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
        ParameterValue::Uuid(v) => Value::Uuid(
            uuid::Uuid::from_str(&v)
                .map_err(|e| Failure::BadParameter(format!("{v:?} is not a UUID: {e}")))?,
        ),
        ParameterValue::Jsonb(v) => Value::Jsonb(
            serde_json::from_slice(&v)
                .map_err(|e| Failure::BadParameter(format!("the jsonb value is not JSON: {e}")))?,
        ),
        ParameterValue::Decimal(v) => Value::Decimal(decimal(&v)?),
        ParameterValue::RangeInt32(v) => Value::RangeI32(range(v, Ok)?),
        ParameterValue::RangeInt64(v) => Value::RangeI64(range(v, Ok)?),
        ParameterValue::RangeDecimal(v) => {
            Value::RangeDecimal(range(v, |text: String| decimal(&text))?)
        }
        ParameterValue::ArrayInt32(v) => Value::ArrayI32(v),
        ParameterValue::ArrayInt64(v) => Value::ArrayI64(v),
        ParameterValue::ArrayDecimal(v) => Value::ArrayDecimal(
            v.iter()
                .map(|text| text.as_deref().map(decimal).transpose())
                .collect::<Result<_, _>>()?,
        ),
        ParameterValue::ArrayStr(v) => Value::ArrayStr(v),
        ParameterValue::Interval(v) => Value::Interval(Interval {
            micros: v.micros,
            days: v.days,
            months: v.months,
        }),
        ParameterValue::DbNull => Value::Null,
    })
}

fn params(values: Vec<ParameterValue>) -> Result<Vec<Value>, Failure> {
    values.into_iter().map(param).collect()
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
        Value::Uuid(v) => DbValue::Uuid(v.to_string()),
        Value::Jsonb(v) => DbValue::Jsonb(v.to_string().into_bytes()),
        Value::Decimal(v) => DbValue::Decimal(v.to_string()),
        Value::RangeI32(v) => DbValue::RangeInt32(wit_range(v, 0, |n| n)),
        Value::RangeI64(v) => DbValue::RangeInt64(wit_range(v, 0, |n| n)),
        Value::RangeDecimal(v) => {
            DbValue::RangeDecimal(wit_range(v, "0".to_string(), |d| d.to_string()))
        }
        Value::ArrayI32(v) => DbValue::ArrayInt32(v),
        Value::ArrayI64(v) => DbValue::ArrayInt64(v),
        Value::ArrayDecimal(v) => {
            DbValue::ArrayDecimal(v.into_iter().map(|d| d.map(|d| d.to_string())).collect())
        }
        Value::ArrayStr(v) => DbValue::ArrayStr(v),
        Value::Interval(v) => DbValue::Interval(postgres::Interval {
            micros: v.micros,
            days: v.days,
            months: v.months,
        }),
        Value::Unsupported(bytes) => DbValue::Unsupported(bytes),
    }
}

fn column((name, ty): (String, ColumnType)) -> Column {
    let data_type = match ty {
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
        ColumnType::Uuid => DbDataType::Uuid,
        ColumnType::Jsonb => DbDataType::Jsonb,
        ColumnType::Decimal => DbDataType::Decimal,
        ColumnType::RangeI32 => DbDataType::RangeInt32,
        ColumnType::RangeI64 => DbDataType::RangeInt64,
        ColumnType::RangeDecimal => DbDataType::RangeDecimal,
        ColumnType::ArrayI32 => DbDataType::ArrayInt32,
        ColumnType::ArrayI64 => DbDataType::ArrayInt64,
        ColumnType::ArrayDecimal => DbDataType::ArrayDecimal,
        ColumnType::ArrayStr => DbDataType::ArrayStr,
        ColumnType::Interval => DbDataType::Interval,
        ColumnType::Other(name) => DbDataType::Other(name),
    };
    Column { name, data_type }
}

/// Runs a query on the connection behind `rep`; its columns and rows in interface types.
async fn query(
    client: Result<std::sync::Arc<tokio_postgres::Client>, Failure>,
    statement: &str,
    values: Vec<ParameterValue>,
) -> Result<(Vec<Column>, Vec<Row>), Failure> {
    let rows = client::query(&*client?, statement, params(values)?).await?;
    Ok((
        rows.columns.into_iter().map(column).collect(),
        rows.rows
            .into_iter()
            .map(|row| row.into_iter().map(db_value).collect())
            .collect(),
    ))
}

async fn execute(
    client: Result<std::sync::Arc<tokio_postgres::Client>, Failure>,
    statement: &str,
    values: Vec<ParameterValue>,
) -> Result<u64, Failure> {
    client::execute(&*client?, statement, params(values)?).await
}

impl postgres::Host for PgInstance {}

impl postgres::HostConnectionBuilder for PgInstance {
    async fn new(&mut self, address: String) -> anyhow::Result<Resource<ConnectionBuilder>> {
        let rep = self
            .builders
            .insert((address, None))
            .ok_or_else(|| anyhow::anyhow!("too many PostgreSQL connection builders"))?;
        Ok(Resource::new_own(rep))
    }

    /// Checks the certificate (PEM) now, as Spin does, and keeps it for `build`.
    async fn set_ca_root(
        &mut self,
        builder: Resource<ConnectionBuilder>,
        certificate: String,
    ) -> Outcome<()> {
        if let Err(e) = crate::network::tls::root_certificates(&certificate) {
            return Ok(Err(Error::Other(e)));
        }
        match self.builders.get_mut(builder.rep()) {
            Some((_, ca_root)) => {
                *ca_root = Some(certificate);
                Ok(Ok(()))
            }
            None => Ok(Err(Error::Other("invalid connection builder".into()))),
        }
    }

    async fn build(
        &mut self,
        builder: Resource<ConnectionBuilder>,
    ) -> Outcome<Resource<Connection>> {
        let Some((address, ca_root)) = self.builders.get(builder.rep()).cloned() else {
            return Ok(Err(Error::Other("invalid connection builder".into())));
        };
        Ok(PgInstance::open(self, &address, ca_root.as_deref())
            .await
            .map(Resource::new_own)
            .map_err(Error::from))
    }

    async fn drop(&mut self, builder: Resource<ConnectionBuilder>) -> anyhow::Result<()> {
        self.builders.remove(builder.rep());
        Ok(())
    }
}

impl<T> postgres::HostConnectionBuilderWithStore<T> for HasPostgres {
    async fn build_async(
        accessor: &Accessor<T, Self>,
        builder: Resource<ConnectionBuilder>,
    ) -> Outcome<Resource<Connection>> {
        let built = accessor.with(|mut access| access.get().builders.get(builder.rep()).cloned());
        match built {
            Some((address, ca_root)) => {
                open_with_store(accessor, &address, ca_root.as_deref()).await
            }
            None => Ok(Err(Error::Other("invalid connection builder".into()))),
        }
    }
}

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
        let result = query(self.client(c.rep()), &statement, values).await;
        Ok(result
            .map(|(columns, rows)| RowSet { columns, rows })
            .map_err(Error::from))
    }

    async fn execute(
        &mut self,
        c: Resource<Connection>,
        statement: String,
        values: Vec<ParameterValue>,
    ) -> Outcome<u64> {
        Ok(execute(self.client(c.rep()), &statement, values)
            .await
            .map_err(Error::from))
    }

    async fn drop(&mut self, c: Resource<Connection>) -> anyhow::Result<()> {
        self.open.remove(c.rep());
        Ok(())
    }
}

/// Opens a connection for a WASI 0.3 caller: the grant check and handle under the store, the
/// connecting outside it.
async fn open_with_store<T>(
    accessor: &Accessor<T, HasPostgres>,
    address: &str,
    ca_root: Option<&str>,
) -> Outcome<Resource<Connection>> {
    let opened = async {
        let servers = super::servers(address).map_err(Failure::ConnectionFailed)?;
        let pool = accessor.with(|mut access| access.get().admit(&servers))?;
        let client = pool.connect(address, ca_root, &servers).await?;
        accessor.with(|mut access| access.get().insert(client))
    };
    Ok(opened.await.map(Resource::new_own).map_err(Error::from))
}

type StreamedRows = (
    Vec<Column>,
    StreamReader<Row>,
    FutureReader<Result<(), Error>>,
);

impl<T> postgres::HostConnectionWithStore<T> for HasPostgres {
    async fn open_async(
        accessor: &Accessor<T, Self>,
        address: String,
    ) -> Outcome<Resource<Connection>> {
        open_with_store(accessor, &address, None).await
    }

    async fn query_async(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        statement: String,
        values: Vec<ParameterValue>,
    ) -> Outcome<StreamedRows> {
        let client = accessor.with(|mut access| access.get().client(c.rep()));
        let (columns, rows) = match query(client, &statement, values).await {
            Ok(result) => result,
            Err(failure) => return Ok(Err(failure.into())),
        };
        accessor.with(|mut access| {
            let rows = StreamReader::new(&mut access, rows)?;
            let done = FutureReader::new(&mut access, async { Ok::<_, wasmtime::Error>(Ok(())) })?;
            Ok(Ok((columns, rows, done)))
        })
    }

    async fn execute_async(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        statement: String,
        values: Vec<ParameterValue>,
    ) -> Outcome<u64> {
        let client = accessor.with(|mut access| access.get().client(c.rep()));
        Ok(execute(client, &statement, values)
            .await
            .map_err(Error::from))
    }
}
