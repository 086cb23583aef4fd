//! The kiln runtime: one wasmtime [`Engine`](wasmtime::Engine) per process, components compiled
//! once (and cached on disk by content digest), pre-linked once, and instantiated fresh for every
//! request or run, with only the capabilities their [`Grants`] allow.
//!
//! This crate reads no TOML: apps arrive as [`kiln_manifest::AppSpec`]. It never imports a trigger.

mod app;
mod cache;
pub mod capabilities;
mod command;
mod componentize;
mod engine;
mod error;
mod files;
mod grants;
mod http;
mod loader;
mod message;
mod store;

pub use app::{AppOptions, LoadedApp, LoadedComponent, RedisSubscription};
pub use capabilities::outbound::{LocalHttp, LocalResponse};
pub use command::CommandOutcome;
pub use engine::{Runtime, RuntimeOptions};
pub use error::LoadError;
pub use grants::{DirGrant, Grants, Outbound};
pub use http::{HttpComponent, HttpResponse};
pub use message::MessageComponent;
pub use store::StoreState;
