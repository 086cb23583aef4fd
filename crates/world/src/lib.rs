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
    pub use crate::generated::fermyon::spin::{
        key_value, llm, mqtt, mysql, postgres, rdbms_types, redis, sqlite, variables,
    };
}

/// `spin:*@3.x`: the interfaces of Spin SDK 7 (WASI 0.3, async functions).
pub mod v3 {
    pub use crate::generated::spin::key_value::key_value;
    pub use crate::generated::spin::sqlite::sqlite;
    pub use crate::generated::spin::variables::variables;
}

/// The WASI proposals kiln provides beyond wasmtime's: `wasi:config` (draft 2024-09-27).
pub mod wasi {
    pub use crate::generated::wasi::config::store as config_store;
}
