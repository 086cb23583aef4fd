//! Host capabilities: every interface kiln provides to guests beyond WASI. Each module owns one
//! family: its host functions, its backends and pools, its grant checks and its per-instance
//! state, through the three phases of [`capability::Capability`] (link once, configure per app
//! and component, a new instance per `Store`). The list of them is in [`crate::store`].
//!
//! | module | interfaces |
//! |---|---|
//! | (wasmtime-wasi) | WASI 0.2 and 0.3: cli, filesystem, sockets, clocks, random, io |
//! | [`outbound`] | the policy of `wasi:http` 0.2 outgoing-handler and 0.3 client: the allow-list, requests to `self` |
//! | [`key_value`] | `fermyon:spin/key-value@2.0.0`, `spin:key-value/key-value@3.0.0` |
//! | [`sqlite`] | `fermyon:spin/sqlite@2.0.0`, `spin:sqlite/sqlite@3.1.0` (and 3.0.0) |
//! | [`variables`] | `fermyon:spin/variables@2.0.0`, `spin:variables/variables@3.0.0`, `wasi:config/store@0.2.0-draft-2024-09-27` |
//! | [`wasi_keyvalue`] | `wasi:keyvalue` store, atomics, batch `@0.2.0-draft` and `@0.2.0-draft2` |
//! | [`redis`] | `fermyon:spin/redis@2.0.0`, `spin:redis/redis@3.0.0` |
//! | [`mqtt`] | `fermyon:spin/mqtt@2.0.0`, `spin:mqtt/mqtt@3.0.0` |
//! | [`postgres`] | `fermyon:spin/postgres@2.0.0`, `spin:postgres/postgres@3.0.0` and `@4.2.0` |
//! | [`mysql`] | `fermyon:spin/mysql@2.0.0`, `spin:mysql/mysql@3.0.0` |
//! | `unconfigured` | `fermyon:spin/llm@2.0.0` (links; calls say no backend is configured) |

pub(crate) mod capability;
pub mod key_value;
pub mod labels;
pub mod messaging;
pub mod mqtt;
pub mod mysql;
pub mod outbound;
pub mod postgres;
pub mod redis;
mod servers;
pub mod sqlite;
pub(crate) mod unconfigured;
pub mod variables;
mod vault;
pub mod wasi_keyvalue;
