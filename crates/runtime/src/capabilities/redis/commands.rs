//! The Redis commands both interface versions offer, on a pooled connection, with their
//! results and errors in version-neutral types ([`Param`], [`Reply`], [`Failure`]).

use redis::aio::ConnectionManager;
use redis::{ErrorKind, FromRedisValue, RedisError, Value};

/// Why a Redis call failed: the variants both interface versions' `error` have.
#[derive(Debug)]
pub(crate) enum Failure {
    InvalidAddress,
    TooManyConnections,
    TypeError,
    Other(String),
}

impl From<RedisError> for Failure {
    fn from(e: RedisError) -> Self {
        let wrong_type = e.kind() == ErrorKind::UnexpectedReturnType
            || e.code() == Some("WRONGTYPE")
            || e.to_string().contains("not an integer");
        if wrong_type {
            Failure::TypeError
        } else {
            Failure::Other(e.to_string())
        }
    }
}

/// An argument of `execute`.
pub(crate) enum Param {
    Int64(i64),
    Binary(Vec<u8>),
}

/// One value `execute` returns; arrays and sets are flattened into the list of results.
pub(crate) enum Reply {
    Nil,
    Status(String),
    Int64(i64),
    Binary(Vec<u8>),
}

/// Runs `command`. A connection found broken (the server restarted) is re-established by the
/// pool; the command is then sent once more, so the guest does not see the restart.
async fn run<T: FromRedisValue>(
    mut connection: ConnectionManager,
    command: &mut redis::Cmd,
) -> Result<T, Failure> {
    match command.query_async(&mut connection).await {
        Err(e) if e.is_connection_dropped() => Ok(command.query_async(&mut connection).await?),
        result => Ok(result?),
    }
}

pub(crate) async fn publish(
    c: ConnectionManager,
    channel: String,
    payload: Vec<u8>,
) -> Result<(), Failure> {
    run::<i64>(c, redis::cmd("PUBLISH").arg(channel).arg(payload)).await?;
    Ok(())
}

pub(crate) async fn get(c: ConnectionManager, key: String) -> Result<Option<Vec<u8>>, Failure> {
    run(c, redis::cmd("GET").arg(key)).await
}

pub(crate) async fn set(c: ConnectionManager, key: String, value: Vec<u8>) -> Result<(), Failure> {
    run(c, redis::cmd("SET").arg(key).arg(value)).await
}

pub(crate) async fn incr(c: ConnectionManager, key: String) -> Result<i64, Failure> {
    run(c, redis::cmd("INCR").arg(key)).await
}

pub(crate) async fn del(c: ConnectionManager, keys: Vec<String>) -> Result<u32, Failure> {
    run(c, redis::cmd("DEL").arg(keys)).await
}

pub(crate) async fn sadd(
    c: ConnectionManager,
    key: String,
    values: Vec<String>,
) -> Result<u32, Failure> {
    run(c, redis::cmd("SADD").arg(key).arg(values)).await
}

pub(crate) async fn smembers(c: ConnectionManager, key: String) -> Result<Vec<String>, Failure> {
    run(c, redis::cmd("SMEMBERS").arg(key)).await
}

pub(crate) async fn srem(
    c: ConnectionManager,
    key: String,
    values: Vec<String>,
) -> Result<u32, Failure> {
    run(c, redis::cmd("SREM").arg(key).arg(values)).await
}

/// Runs any command; the reply flattened into [`Reply`] values.
pub(crate) async fn execute(
    c: ConnectionManager,
    command: String,
    params: Vec<Param>,
) -> Result<Vec<Reply>, Failure> {
    let mut cmd = redis::cmd(&command);
    for param in params {
        match param {
            Param::Int64(n) => cmd.arg(n),
            Param::Binary(bytes) => cmd.arg(bytes),
        };
    }
    let value: Value = run(c, &mut cmd).await?;
    let mut replies = Vec::new();
    flatten(value, &mut replies)?;
    Ok(replies)
}

fn flatten(value: Value, into: &mut Vec<Reply>) -> Result<(), Failure> {
    match value {
        Value::Nil => into.push(Reply::Nil),
        Value::Int(n) => into.push(Reply::Int64(n)),
        Value::BulkString(bytes) => into.push(Reply::Binary(bytes)),
        Value::SimpleString(text) => into.push(Reply::Status(text)),
        Value::Okay => into.push(Reply::Status("OK".into())),
        Value::Boolean(b) => into.push(Reply::Int64(b.into())),
        Value::Double(d) => into.push(Reply::Binary(d.to_string().into_bytes())),
        Value::VerbatimString { text, .. } => into.push(Reply::Binary(text.into_bytes())),
        Value::Array(items) | Value::Set(items) => {
            for item in items {
                flatten(item, into)?;
            }
        }
        Value::Map(pairs) => {
            for (key, value) in pairs {
                flatten(key, into)?;
                flatten(value, into)?;
            }
        }
        Value::ServerError(e) => return Err(Failure::Other(format!("{e:?}"))),
        other => {
            return Err(Failure::Other(format!(
                "the reply {other:?} has no form in this interface"
            )))
        }
    }
    Ok(())
}
