//! Host untrusted WebAssembly component plugins in a Rust application, with kiln's runtime
//! underneath: plugins written in any language that builds WASI 0.2 components (Rust, Python,
//! JavaScript, Go, C), called through a WIT world the application defines, each in an instance
//! of its own with limits and explicit grants.
//!
//! - **Load** a plugin from a file or bytes ([`PluginHost::load_file`], [`PluginHost::load`]),
//!   or pull it from an OCI registry (`PluginHost::load_reference`, feature `oci`):
//!   it is compiled once (optionally cached on disk) and checked against what the host
//!   provides; an import the host lacks is an error naming it ([`PluginError::Import`]).
//! - **Call** it typed, through the application's `wasmtime::component::bindgen!` world
//!   ([`TypedPlugin`], checked against the world when made: [`PluginError::World`]), or
//!   dynamically by export name with [`Val`]s ([`Plugin::call_func`]).
//! - **Limits** per plugin ([`PluginConfig`]): linear memory, a deadline per call, a fuel
//!   budget, calls at once. A trap, a timeout, exhausted fuel or memory is a [`CallError`] for
//!   that call only: the next call gets a fresh instance.
//! - **Grants** per plugin, nothing by default: directories (read-only or read-write),
//!   environment variables, outbound hosts (`wasi:http` and sockets), key-value stores the host
//!   defines ([`PluginHostBuilder::key_value_store`]). The application adds its own host
//!   functions for its world's imports ([`PluginHostBuilder::imports`], [`host_data`]).
//! - **Instances**: fresh per call by default (no state leaks between calls; microseconds from
//!   a pool with copy-on-write memory images), or kept for stateful plugins ([`Reuse`]).
//! - **Async** (tokio) handles that are `Send + Sync` and cheap to clone, and a
//!   [`blocking`] wrapper for threads without a runtime.
//!
//! # A host with its own world
//!
//! The world the plugins are built against, say `wit/filter.wit`:
//!
//! ```wit
//! package example:filter@0.1.0;
//!
//! interface host {
//!     log: func(message: string);
//! }
//!
//! world filter {
//!     import host;
//!     export apply: func(input: string) -> result<string, string>;
//! }
//! ```
//!
//! The host generates its bindings with async exports, implements its imports on the data of
//! a call, and calls plugins:
//!
//! ```no_run
//! # mod bindings {
//! wasmtime::component::bindgen!({
//!     inline: "
//!         package example:filter@0.1.0;
//!         interface host { log: func(message: string); }
//!         world filter {
//!             import host;
//!             export apply: func(input: string) -> result<string, string>;
//!         }
//!     ",
//!     imports: { default: async },
//!     exports: { default: async },
//! });
//! # }
//! # use bindings::*;
//! use std::time::Duration;
//! use kiln_plugin::{PluginConfig, PluginHost};
//! use wasmtime::component::HasSelf;
//!
//! /// What the host functions work on during one call.
//! struct Session {
//!     lines: Vec<String>,
//! }
//!
//! impl example::filter::host::Host for Session {
//!     async fn log(&mut self, message: String) {
//!         self.lines.push(message);
//!     }
//! }
//!
//! kiln_plugin::bindings!(Filter, FilterIndices);
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let host = PluginHost::<Session>::builder()
//!     .imports(|linker| {
//!         example::filter::host::add_to_linker::<_, HasSelf<Session>>(linker, kiln_plugin::host_data)
//!     })
//!     .build()?;
//! let config = PluginConfig::new()
//!     .max_memory(16 << 20)
//!     .timeout(Duration::from_millis(100))
//!     .env("GREETING", "hello");
//! let filter = host.load_file("upper.wasm", config)?.typed::<Filter>()?;
//! let session = Session { lines: Vec::new() };
//! let output = filter
//!     .call(session, async |filter, store| filter.call_apply(store, "some text").await)
//!     .await?;
//! println!("{output:?}");
//! # Ok(())
//! # }
//! ```
//!
//! Plugins are components built against that world: in Rust with `wit-bindgen` for
//! `wasm32-wasip2`, in Python with `componentize-py`, in JavaScript with `jco componentize`.
//! `examples/plugin-host` in kiln's repository is a complete program with a Rust and a Python
//! plugin.

pub mod blocking;
mod config;
mod error;
mod host;
#[cfg(feature = "oci")]
mod oci;
mod plugin;
mod typed;

pub use config::{
    PluginConfig, Reuse, DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_MEMORY, DEFAULT_TIMEOUT,
};
pub use error::{CallError, PluginError};
pub use host::{KeyValueBackend, PluginHost, PluginHostBuilder};
pub use kiln_runtime::StoreState;
#[cfg(feature = "oci")]
pub use oci::{RegistryOptions, VerifyKey};
pub use plugin::Plugin;
pub use typed::{Bindings, TypedPlugin};
pub use wasmtime;
pub use wasmtime::component::Val;

/// The data the current call gave the host's own functions: the getter to pass a `bindgen!`
/// world's `add_to_linker` ([`PluginHostBuilder::imports`]).
///
/// # Panics
/// If the host was built for another data type than `D` (every call of a
/// `PluginHost<D>` gives its host functions a `D`).
pub fn host_data<D: Send + 'static>(state: &mut StoreState) -> &mut D {
    state
        .host_data_mut::<D>()
        .expect("a PluginHost<D> gives every call a D: link imports for the host's own D")
}
