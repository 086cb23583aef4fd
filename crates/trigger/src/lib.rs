//! kiln's triggers: each turns an outside event into a call of a component export.
//!
//! [`http`]: a hyper server that routes requests to `wasi:http` components. [`redis`]: Redis
//! channel subscriptions whose messages go to `inbound-redis` components. This crate uses the
//! runtime and the manifest; it never reads TOML itself.

pub mod http;
pub mod redis;
