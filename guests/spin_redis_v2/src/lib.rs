//! A Redis trigger component built with Spin SDK 5 (`#[redis_component]`, exporting
//! `fermyon:spin/inbound-redis`): appends each message to the Redis list named by the variable
//! `list`, on the server named by the variable `address`. A message `fail` fails the handler.

use anyhow::Context as _;
use bytes::Bytes;
use spin_sdk::redis::{Connection, RedisParameter};
use spin_sdk::redis_component;

#[redis_component]
fn on_message(message: Bytes) -> anyhow::Result<()> {
    if &message[..] == b"fail" {
        anyhow::bail!("asked to fail");
    }
    let address = spin_sdk::variables::get("address").context("variable address")?;
    let list = spin_sdk::variables::get("list").context("variable list")?;
    let redis = Connection::open(&address).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let args = [RedisParameter::Binary(list.into_bytes()), RedisParameter::Binary(message.to_vec())];
    redis.execute("RPUSH", &args).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(())
}
