//! The same host for applications without an async runtime: each call blocks the calling
//! thread until the plugin returns. A small tokio runtime of its own drives timers, deadlines
//! and I/O; many threads may call at once.
//!
//! ```no_run
//! use kiln_plugin::blocking::BlockingHost;
//! use kiln_plugin::{PluginConfig, PluginHost, Val};
//!
//! let host = BlockingHost::new(PluginHost::builder())?;
//! let plugin = host.load_file("upper.wasm", PluginConfig::new())?;
//! let out = plugin.call_func((), "transform", &[Val::String("hi".into())])?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//! Do not call it from inside an async runtime: use the async API there.

use std::path::Path;
use std::sync::Arc;

use kiln_runtime::StoreState;
use wasmtime::component::Val;
use wasmtime::Store;

use crate::error::{CallError, PluginError};
use crate::host::{PluginHost, PluginHostBuilder};
use crate::typed::{Bindings, TypedPlugin};
use crate::{Plugin, PluginConfig};

/// A [`PluginHost`] whose plugins are called from plain threads.
pub struct BlockingHost<D = ()> {
    host: PluginHost<D>,
    runtime: Arc<tokio::runtime::Runtime>,
}

/// A [`Plugin`] called from plain threads. Cheap to clone; `Send + Sync`.
pub struct BlockingPlugin<D = ()> {
    plugin: Plugin<D>,
    runtime: Arc<tokio::runtime::Runtime>,
}

/// A [`TypedPlugin`] called from plain threads. Cheap to clone; `Send + Sync`.
pub struct BlockingTypedPlugin<B: Bindings, D = ()> {
    plugin: TypedPlugin<B, D>,
    runtime: Arc<tokio::runtime::Runtime>,
}

impl<D> Clone for BlockingPlugin<D> {
    fn clone(&self) -> Self {
        Self {
            plugin: self.plugin.clone(),
            runtime: self.runtime.clone(),
        }
    }
}

impl<B: Bindings, D> Clone for BlockingTypedPlugin<B, D> {
    fn clone(&self) -> Self {
        Self {
            plugin: self.plugin.clone(),
            runtime: self.runtime.clone(),
        }
    }
}

impl<D: Send + 'static> BlockingHost<D> {
    /// The host `builder` builds, with a runtime thread of its own.
    pub fn new(builder: PluginHostBuilder<D>) -> Result<Self, PluginError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("kiln-plugin")
            .enable_all()
            .build()
            .map_err(|e| PluginError::Host(e.into()))?;
        // Stores (Redis, NATS) connect through the runtime.
        let host = {
            let _entered = runtime.enter();
            builder.build()?
        };
        Ok(Self {
            host,
            runtime: Arc::new(runtime),
        })
    }

    /// Loads the plugin at `path` ([`PluginHost::load_file`]).
    pub fn load_file(
        &self,
        path: impl AsRef<Path>,
        config: PluginConfig,
    ) -> Result<BlockingPlugin<D>, PluginError> {
        Ok(self.wrap(self.host.load_file(path, config)?))
    }

    /// Loads the plugin in `wasm` ([`PluginHost::load`]).
    pub fn load(
        &self,
        wasm: &[u8],
        config: PluginConfig,
    ) -> Result<BlockingPlugin<D>, PluginError> {
        Ok(self.wrap(self.host.load(wasm, config)?))
    }

    fn wrap(&self, plugin: Plugin<D>) -> BlockingPlugin<D> {
        BlockingPlugin {
            plugin,
            runtime: self.runtime.clone(),
        }
    }
}

impl<D: Send + 'static> BlockingPlugin<D> {
    /// The plugin's name.
    pub fn name(&self) -> &str {
        self.plugin.name()
    }

    /// Calls `function` with `args`, blocking until it returns ([`Plugin::call_func`]).
    pub fn call_func(&self, data: D, function: &str, args: &[Val]) -> Result<Vec<Val>, CallError> {
        self.runtime
            .block_on(self.plugin.call_func(data, function, args))
    }

    /// This plugin, called through the world `B` ([`Plugin::typed`]).
    pub fn typed<B: Bindings>(&self) -> Result<BlockingTypedPlugin<B, D>, PluginError> {
        Ok(BlockingTypedPlugin {
            plugin: self.plugin.typed()?,
            runtime: self.runtime.clone(),
        })
    }
}

impl<B: Bindings, D: Send + 'static> BlockingTypedPlugin<B, D> {
    /// Calls the plugin, blocking until it returns ([`TypedPlugin::call`]).
    pub fn call<R>(
        &self,
        data: D,
        call: impl AsyncFnOnce(&B, &mut Store<StoreState>) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        self.runtime.block_on(self.plugin.call(data, call))
    }
}
