//! A Redis trigger component built with Spin SDK 7 (`#[redis_subscriber]`, exporting
//! `spin:redis/inbound-redis@3.0.0`): appends each message to the Redis list named by the
//! variable `list`, on the server named by the variable `address`.

use anyhow::Context as _;
use bytes::Bytes;
use spin_sdk::redis::{Connection, RedisParameter};
use spin_sdk::redis_subscriber;

#[redis_subscriber]
async fn on_message(message: Bytes) -> anyhow::Result<()> {
    let address = spin_sdk::variables::get("address").await.context("variable address")?;
    let list = spin_sdk::variables::get("list").await.context("variable list")?;
    let redis = Connection::open(&address).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let args = [RedisParameter::Binary(list.into_bytes()), RedisParameter::Binary(message.to_vec())];
    redis.execute("RPUSH", args).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(())
}
