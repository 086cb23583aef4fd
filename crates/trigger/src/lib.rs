//! kiln's triggers: each turns an outside event into a call of a component export.
//!
//! Today: [`http`], a hyper server that routes requests to `wasi:http` components. This crate
//! uses the runtime and the manifest; it never reads TOML itself.

pub mod http;
