//! Host capabilities: every interface kiln provides to guests, linked once into the one
//! [`Linker`] all components are pre-linked with. What an instance may actually reach is
//! decided per component by its [`crate::Grants`], when its [`crate::StoreState`] is built.
//!
//! | module | interfaces |
//! |---|---|
//! | (wasmtime-wasi) | WASI 0.2 and 0.3: cli, filesystem, sockets, clocks, random, io |
//! | [`outbound`] | `wasi:http` 0.2 outgoing-handler and 0.3 client, with the allow-list |
//! | [`key_value`] | `fermyon:spin/key-value@2.0.0`, `spin:key-value/key-value@3.0.0` |
//! | [`sqlite`] | `fermyon:spin/sqlite@2.0.0`, `spin:sqlite/sqlite@3.1.0` (and 3.0.0) |
//! | [`variables`] | `fermyon:spin/variables@2.0.0`, `spin:variables/variables@3.0.0`, `wasi:config/store@0.2.0-draft-2024-09-27` |
//! | [`wasi_keyvalue`] | `wasi:keyvalue` store, atomics, batch `@0.2.0-draft` and `@0.2.0-draft2` |
//! | [`redis`] | `fermyon:spin/redis@2.0.0`, `spin:redis/redis@3.0.0` |
//! | [`mqtt`] | `fermyon:spin/mqtt@2.0.0`, `spin:mqtt/mqtt@3.0.0` |
//! | [`postgres`] | `fermyon:spin/postgres@2.0.0`, `spin:postgres/postgres@3.0.0` and `@4.2.0` |
//! | [`mysql`] | `fermyon:spin/mysql@2.0.0`, `spin:mysql/mysql@3.0.0` |
//! | `unconfigured` | `fermyon:spin/llm@2.0.0` (links; calls say no backend is configured) |

pub mod key_value;
pub mod labels;
pub mod mqtt;
pub mod mysql;
pub mod outbound;
pub mod postgres;
pub mod redis;
pub mod sqlite;
mod unconfigured;
pub mod variables;
mod vault;
pub mod wasi_keyvalue;

use kiln_world::{v2, v3};
use wasmtime::component::Linker;

use crate::store::StoreState;
pub(crate) use unconfigured::Unconfigured;

/// An app's connections to outside servers, pooled per app and shared by its components; a
/// backend capability adds its pool here and its per-instance state to [`StoreState`].
#[derive(Clone, Default)]
pub struct ServerConnections {
    /// Redis connections, one per address.
    pub redis: redis::RedisPool,
    /// MQTT sessions, per address and credentials.
    pub mqtt: mqtt::MqttPool,
    /// PostgreSQL clients, one per address.
    pub postgres: postgres::PgPool,
    /// MySQL connection pools, one per address.
    pub mysql: mysql::MysqlPool,
}

/// Adds every capability's host functions to `linker`.
pub(crate) fn link(linker: &mut Linker<StoreState>) -> anyhow::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)?;
    wasmtime_wasi::p3::add_to_linker(linker)?;
    wasmtime_wasi_http::p3::add_to_linker(linker)?;
    v2::key_value::add_to_linker::<_, key_value::HasKeyValue>(linker, |s| &mut s.key_value)?;
    kiln_world::v3::key_value::add_to_linker::<_, key_value::HasKeyValue>(linker, |s| {
        &mut s.key_value
    })?;
    v2::sqlite::add_to_linker::<_, sqlite::HasSqlite>(linker, |s| &mut s.sqlite)?;
    kiln_world::v3::sqlite::add_to_linker::<_, sqlite::HasSqlite>(linker, |s| &mut s.sqlite)?;
    v2::variables::add_to_linker::<_, variables::HasVariables>(linker, |s| &mut s.variables)?;
    kiln_world::v3::variables::add_to_linker::<_, variables::HasVariables>(linker, |s| {
        &mut s.variables
    })?;
    kiln_world::wasi::config_store::add_to_linker::<_, variables::HasVariables>(linker, |s| {
        &mut s.variables
    })?;
    link_wasi_keyvalue(linker)?;
    v2::redis::add_to_linker::<_, redis::HasRedis>(linker, |s| &mut s.redis)?;
    v3::redis::add_to_linker::<_, redis::HasRedis>(linker, |s| &mut s.redis)?;
    v2::mqtt::add_to_linker::<_, mqtt::HasMqtt>(linker, |s| &mut s.mqtt)?;
    v2::rdbms_types::add_to_linker::<_, postgres::HasPostgres>(linker, |s| &mut s.postgres)?;
    v2::postgres::add_to_linker::<_, postgres::HasPostgres>(linker, |s| &mut s.postgres)?;
    v3::postgres3::add_to_linker::<_, postgres::HasPostgres>(linker, |s| &mut s.postgres)?;
    v3::postgres4::add_to_linker::<_, postgres::HasPostgres>(linker, |s| &mut s.postgres)?;
    v3::mqtt::add_to_linker::<_, mqtt::HasMqtt>(linker, |s| &mut s.mqtt)?;
    v2::mysql::add_to_linker::<_, mysql::HasMysql>(linker, |s| &mut s.mysql)?;
    v3::mysql::add_to_linker::<_, mysql::HasMysql>(linker, |s| &mut s.mysql)?;
    use unconfigured::HasUnconfigured as Off;
    v2::llm::add_to_linker::<_, Off>(linker, |s| &mut s.unconfigured)?;
    Ok(())
}

fn link_wasi_keyvalue(linker: &mut Linker<StoreState>) -> anyhow::Result<()> {
    use key_value::HasKeyValue as Kv;
    use kiln_world::wasi::{keyvalue_draft as draft, keyvalue_draft2 as draft2};
    draft::store::add_to_linker::<_, Kv>(linker, |s| &mut s.key_value)?;
    draft::atomics::add_to_linker::<_, Kv>(linker, |s| &mut s.key_value)?;
    draft::batch::add_to_linker::<_, Kv>(linker, |s| &mut s.key_value)?;
    draft2::store::add_to_linker::<_, Kv>(linker, |s| &mut s.key_value)?;
    draft2::atomics::add_to_linker::<_, Kv>(linker, |s| &mut s.key_value)?;
    draft2::batch::add_to_linker::<_, Kv>(linker, |s| &mut s.key_value)?;
    Ok(())
}
