//! The kiln runtime: one wasmtime [`Engine`](wasmtime::Engine) per process, components compiled
//! once (and cached on disk by content digest), pre-linked once, and instantiated fresh for every
//! request or run, with only the capabilities their [`Grants`] allow.
//!
//! This crate reads no TOML: apps arrive as [`kiln_manifest::AppSpec`]. It never imports a trigger.

mod app;
mod backend;
mod cache;
pub mod capabilities;
mod code;
mod command;
mod component;
mod componentize;
pub mod compose;
mod deny;
mod embedding;
mod engine;
mod error;
mod fault;
mod files;
mod grants;
mod guest_logs;
mod http;
mod imports;
mod instance;
mod limits;
mod loader;
mod metrics;
pub mod needs;
pub mod network;
mod options;
mod parallel;
mod precompiled;
mod residency;
mod store;
mod tiering;
pub mod traces;

pub use app::{compose_component, AppComponents, LoadedApp};
pub use capabilities::outbound::{LocalHttp, LocalResponse};
pub use command::CommandOutcome;
pub use component::{Component, Export};
pub use embedding::EmbedderStores;
pub use engine::{default_cache_dir, Runtime, RuntimeOptions, DEFAULT_MAX_LOADED_COMPONENTS};
pub use error::LoadError;
pub use fault::{Failure, FailureKind};
pub use grants::{DirGrant, Grants, GuestStdio};
pub use guest_logs::GuestLogs;
pub use http::{plain_response, text_response, HttpComponent, HttpExport, HttpResponse};
pub use imports::UnprovidedImport;
pub use instance::InstanceRecipe;
pub use limits::{ComponentLimits, MemoryLimitExceeded, DEFAULT_LIMITS};
pub use metrics::Metrics;
pub use network::Outbound;
pub use options::AppOptions;
pub use store::StoreState;
pub use tiering::Compiler;
