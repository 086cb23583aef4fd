//! The two errors a host meets: [`PluginError`] when a plugin cannot be loaded as configured,
//! [`CallError`] when one call of it fails. A failed call never harms the plugin: its next call
//! gets a fresh instance.

use std::time::Duration;

use kiln_runtime::{Failure, FailureKind, LoadError, MemoryLimitExceeded};

/// Why a plugin (or the host) could not be set up. The message names the plugin and says what
/// to change.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The plugin file could not be read.
    #[error("plugin \"{plugin}\": cannot read {path}: {reason}")]
    Unreadable {
        /// The plugin's name.
        plugin: String,
        /// The file.
        path: String,
        /// The I/O error.
        reason: std::io::Error,
    },
    /// Not a WebAssembly component, or it does not compile.
    #[error(transparent)]
    Invalid(LoadError),
    /// It imports an interface the host does not provide.
    #[error("plugin \"{plugin}\" imports what this host does not provide: {reason:#}: build it against the host's world, or link that import with PluginHostBuilder::imports")]
    Import {
        /// The plugin's name.
        plugin: String,
        /// wasmtime's error, naming the import.
        reason: anyhow::Error,
    },
    /// It lacks an export of the world the host calls it through.
    #[error("plugin \"{plugin}\" is not built for the world {world}: {reason:#}")]
    World {
        /// The plugin's name.
        plugin: String,
        /// The host's bindings type, naming the world.
        world: &'static str,
        /// What is missing or mistyped.
        reason: anyhow::Error,
    },
    /// A grant cannot be given: a malformed outbound host, an undefined store, a missing
    /// directory.
    #[error("plugin \"{plugin}\": {reason}")]
    Grant {
        /// The plugin's name.
        plugin: String,
        /// What is wrong.
        reason: String,
    },
    /// A plugin reference could not be pulled, or names no single component.
    #[error("plugin {reference}: {reason}")]
    Pull {
        /// The reference.
        reference: String,
        /// What went wrong.
        reason: String,
    },
    /// The host itself could not be built (engine, stores).
    #[error("setting up the plugin host: {0:#}")]
    Host(anyhow::Error),
}

impl PluginError {
    /// The error for `plugin` that `error` says kiln's loader met.
    pub(crate) fn from_load(plugin: &str, error: LoadError) -> Self {
        match error {
            LoadError::MissingImport { reason, .. } => Self::Import {
                plugin: plugin.to_string(),
                reason,
            },
            LoadError::Grant { reason, .. } => Self::Grant {
                plugin: plugin.to_string(),
                reason,
            },
            other => Self::Invalid(other),
        }
    }
}

/// Why one call of a plugin failed. Each limit has its own variant, so that a host can tell a
/// runaway plugin from a broken one.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// All of its call slots (`max_concurrent`) stayed taken.
    #[error("plugin \"{plugin}\" is busy: all {max_concurrent} of its call slots stayed taken")]
    Busy {
        /// The plugin's name.
        plugin: String,
        /// Its concurrency limit.
        max_concurrent: u32,
    },
    /// It ran past its deadline and was stopped.
    #[error("plugin \"{plugin}\" ran past its deadline of {limit:?} and was stopped")]
    Timeout {
        /// The plugin's name.
        plugin: String,
        /// Its deadline per call.
        limit: Duration,
    },
    /// It used up its fuel.
    #[error("plugin \"{plugin}\" used up its fuel budget of {budget} and was stopped")]
    OutOfFuel {
        /// The plugin's name.
        plugin: String,
        /// Its fuel per call.
        budget: u64,
    },
    /// It asked for more linear memory than its limit.
    #[error("plugin \"{plugin}\" asked for {desired} bytes of linear memory, over its limit of {limit} bytes")]
    MemoryLimit {
        /// The plugin's name.
        plugin: String,
        /// Its memory limit.
        limit: usize,
        /// What it asked for, in all.
        desired: usize,
    },
    /// It trapped (a panic, an unreachable, a stack overflow).
    #[error("plugin \"{plugin}\" trapped: {reason}")]
    Trap {
        /// The plugin's name.
        plugin: String,
        /// The trap and where it happened.
        reason: String,
    },
    /// It has no function of that name.
    #[error("plugin \"{plugin}\" exports no function \"{function}\"; it exports: {exports}")]
    NoSuchFunction {
        /// The plugin's name.
        plugin: String,
        /// The name asked for.
        function: String,
        /// What it does export, comma-separated.
        exports: String,
    },
    /// Anything else: it could not be instantiated, arguments of the wrong type, a host
    /// function failed.
    #[error("plugin \"{plugin}\": {reason}")]
    Failed {
        /// The plugin's name.
        plugin: String,
        /// What failed.
        reason: String,
    },
}

/// What a call of a plugin ran under, to word its errors.
pub(crate) struct CallLimits<'a> {
    pub(crate) plugin: &'a str,
    pub(crate) timeout: Duration,
    pub(crate) max_concurrent: u32,
    pub(crate) fuel: Option<u64>,
}

impl CallLimits<'_> {
    /// The error of a call that ended with `error` from wasmtime (or a host function).
    pub(crate) fn guest_error(&self, error: wasmtime::Error) -> CallError {
        let plugin = self.plugin.to_string();
        let out_of_fuel = error
            .chain()
            .any(|cause| cause.downcast_ref() == Some(&wasmtime::Trap::OutOfFuel));
        if let (true, Some(budget)) = (out_of_fuel, self.fuel) {
            return CallError::OutOfFuel { plugin, budget };
        }
        let memory = error
            .chain()
            .find_map(|cause| cause.downcast_ref::<MemoryLimitExceeded>());
        if let Some(exceeded) = memory {
            return CallError::MemoryLimit {
                plugin,
                limit: exceeded.limit,
                desired: exceeded.desired,
            };
        }
        let failure = Failure::from_guest(error);
        let reason = failure.summary();
        match failure.kind {
            FailureKind::Trap => CallError::Trap { plugin, reason },
            FailureKind::Busy => self.busy(),
            _ => CallError::Failed { plugin, reason },
        }
    }

    pub(crate) fn timed_out(&self) -> CallError {
        CallError::Timeout {
            plugin: self.plugin.to_string(),
            limit: self.timeout,
        }
    }

    pub(crate) fn busy(&self) -> CallError {
        CallError::Busy {
            plugin: self.plugin.to_string(),
            max_concurrent: self.max_concurrent,
        }
    }
}
