//! Host-side bindings for every interface kiln provides beyond WASI, generated once from the
//! top-level `wit/` (world `kiln:host/host`). Large and rarely changing, so it is a crate of its
//! own that incremental builds keep cached. Imports nothing of kiln's.
//!
//! Every import is `async` (host code may do I/O) and trappable (`anyhow::Result` outside, the
//! interface's own `result` inside: the outer error traps, the inner one is what the guest sees).

mod generated {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "kiln:host/host",
        imports: { default: async | trappable },
        anyhow: true,
    });
}

/// `fermyon:spin@2.0.0`: the interfaces of Spin SDKs 2.x to 5.x.
pub mod v2 {
    pub use crate::generated::fermyon::spin2_0_0::{
        key_value, llm, mqtt, mysql, postgres, rdbms_types, redis, sqlite, variables,
    };
}

/// The Redis trigger's export in Spin SDKs 2 to 5: `fermyon:spin/inbound-redis` (unversioned).
pub mod redis_handler {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "kiln:host/redis-handler",
        exports: { default: async },
        anyhow: true,
    });
}

/// The Redis trigger's export in Spin SDK 7: `spin:redis/inbound-redis@3.0.0` (async).
pub mod redis_handler_v3 {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "kiln:host/redis-handler-v3",
        exports: { default: async | store },
        anyhow: true,
    });
}

/// The cron trigger's export (the spin-trigger-cron plugin's world): `handle-cron-event`,
/// with the types of `fermyon:spin-cron/cron-types@2.0.0`, which the component imports.
pub mod cron_handler {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "kiln:host/cron-handler",
        imports: { default: trappable },
        exports: { default: async },
        anyhow: true,
    });
}

/// The MQTT trigger's export (the spin-trigger-mqtt plugin's world): `handle-message`, with
/// the types of `spin:mqtt-trigger/spin-mqtt-types`, which the component imports.
pub mod mqtt_handler {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "kiln:host/mqtt-handler",
        imports: { default: trappable },
        exports: { default: async },
        anyhow: true,
    });
}

/// The NATS trigger's export: `wasmcloud:messaging/handler@0.2.0`, with the message type the
/// consumer interface ([`messaging`]) shares.
pub mod nats_handler {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "kiln:host/nats-handler",
        exports: { default: async },
        with: { "wasmcloud:messaging/types": crate::generated::wasmcloud::messaging::types },
        anyhow: true,
    });
}

/// Adds to `linker` the interfaces that carry only types, which a component imports with a
/// trigger's world it exports (`fermyon:spin-cron/cron-types@2.0.0`,
/// `spin:mqtt-trigger/spin-mqtt-types`): nothing to call.
pub fn add_types_only_to_linker<T: 'static>(
    linker: &mut wasmtime::component::Linker<T>,
) -> wasmtime::Result<()> {
    cron_handler::fermyon::spin_cron::cron_types::add_to_linker::<T, TypesOnly>(linker, |_| {
        TypesOnly
    })?;
    mqtt_handler::spin::mqtt_trigger::spin_mqtt_types::add_to_linker::<T, TypesOnly>(linker, |_| {
        TypesOnly
    })
}

/// The host side of an interface with no functions.
struct TypesOnly;

impl wasmtime::component::HasData for TypesOnly {
    type Data<'a> = TypesOnly;
}

impl cron_handler::fermyon::spin_cron::cron_types::Host for TypesOnly {}

impl mqtt_handler::spin::mqtt_trigger::spin_mqtt_types::Host for TypesOnly {}

/// `spin:*@3.x` and `spin:postgres@4.x`: the interfaces of Spin 3 and Spin SDK 7 (most of
/// them with async functions).
pub mod v3 {
    pub use crate::generated::spin::key_value::key_value;
    pub use crate::generated::spin::mqtt::mqtt;
    pub use crate::generated::spin::mysql::mysql;
    pub use crate::generated::spin::postgres3_0_0::postgres as postgres3;
    pub use crate::generated::spin::postgres4_2_0::postgres as postgres4;
    pub use crate::generated::spin::redis::redis;
    pub use crate::generated::spin::sqlite::sqlite;
    pub use crate::generated::spin::variables::variables;
}

/// `wasmcloud:messaging@0.2.0`: publish and request over a message broker, as wasmCloud
/// components import it.
pub mod messaging {
    pub use crate::generated::wasmcloud::messaging::{consumer, types};
}

/// The WASI proposals kiln provides beyond wasmtime's: `wasi:config` (draft 2024-09-27) and
/// `wasi:keyvalue` (`0.2.0-draft`, as wasmtime-wasi-keyvalue has it, and `0.2.0-draft2`, as
/// Spin SDKs import it).
pub mod wasi {
    pub use crate::generated::wasi::config::store as config_store;
    /// `wasi:keyvalue@0.2.0-draft`.
    pub mod keyvalue_draft {
        pub use crate::generated::wasi::keyvalue0_2_0_draft::{atomics, batch, store};
    }
    /// `wasi:keyvalue@0.2.0-draft2`.
    pub mod keyvalue_draft2 {
        pub use crate::generated::wasi::keyvalue0_2_0_draft2::{atomics, batch, store};
    }
}
