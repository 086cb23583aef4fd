//! [`PluginHost`]: one engine (pooling, epoch deadlines, optional fuel and compile cache), the
//! linker every plugin is pre-linked with (WASI, `wasi:http`, key-value, and the application's
//! own imports), and the key-value stores plugins may be granted.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kiln_manifest::KeyValueStoreConfig;
use kiln_runtime::capabilities::key_value::configure_stores;
use kiln_runtime::{EmbedderStores, InstanceRecipe, Runtime, RuntimeOptions, StoreState};
use wasmtime::component::Linker;

use crate::config::PluginConfig;
use crate::error::PluginError;
use crate::plugin::Plugin;

/// Where a key-value store that plugins may be granted keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyValueBackend {
    /// A SQLite file, created when missing.
    Sqlite(PathBuf),
    /// A Redis server: `redis://[user:password@]host[:port][/db]`.
    Redis(String),
    /// A NATS JetStream key-value bucket (created when missing) on the server at `url`.
    Nats {
        /// `nats://host[:port]`.
        url: String,
        /// The bucket.
        bucket: String,
    },
}

/// Adds an application's own host functions to the plugins' linker, usually a `bindgen!`
/// world's `add_to_linker` with [`host_data`](crate::host_data) as its getter.
type LinkImports = Box<dyn FnOnce(&mut Linker<StoreState>) -> wasmtime::Result<()> + Send>;

/// Builds a [`PluginHost`]; see [`PluginHost::builder`].
pub struct PluginHostBuilder<D = ()> {
    options: RuntimeOptions,
    key_value: BTreeMap<String, KeyValueStoreConfig>,
    imports: Vec<LinkImports>,
    artifact_cache: Option<PathBuf>,
    _data: PhantomData<fn(D)>,
}

impl<D: Send + 'static> PluginHostBuilder<D> {
    /// Most plugin instances alive at once, over all plugins (default 1000). Their slots are
    /// reserved up front when pooling.
    pub fn max_instances(mut self, instances: u32) -> Self {
        self.options.max_instances = instances;
        self
    }

    /// Whether instances come from a pool of pre-reserved slots with copy-on-write memory
    /// images (default: yes; falls back to allocating on demand where the pool cannot be
    /// reserved).
    pub fn pooling(mut self, pooling: bool) -> Self {
        self.options.pooling = pooling;
        self
    }

    /// Keeps compiled plugins in `dir`, so that loading one again skips compiling it
    /// (default: no disk cache).
    pub fn compile_cache(mut self, dir: impl Into<PathBuf>) -> Self {
        self.options.cache_dir = Some(dir.into());
        self
    }

    /// Where plugins pulled by reference are kept (default: `oci/` in kiln's cache
    /// directory, shared with `kiln pull`).
    pub fn artifact_cache(mut self, dir: impl Into<PathBuf>) -> Self {
        self.artifact_cache = Some(dir.into());
        self
    }

    /// Counts fuel, so that plugins configured with [`PluginConfig::fuel`] get a
    /// deterministic budget per call. Every plugin runs somewhat slower with it on.
    pub fn fuel(mut self, fuel: bool) -> Self {
        self.options.fuel = fuel;
        self
    }

    /// Defines the key-value store `label` (opened once, shared by every plugin granted it
    /// with [`PluginConfig::key_value_store`]), reached through `wasi:keyvalue` and Spin's
    /// key-value interfaces.
    pub fn key_value_store(mut self, label: impl Into<String>, backend: KeyValueBackend) -> Self {
        let config = match backend {
            KeyValueBackend::Sqlite(path) => KeyValueStoreConfig::Spin { path: Some(path) },
            KeyValueBackend::Redis(url) => KeyValueStoreConfig::Redis { url },
            KeyValueBackend::Nats { url, bucket } => KeyValueStoreConfig::Nats { url, bucket },
        };
        self.key_value.insert(label.into(), config);
        self
    }

    /// Adds the application's own host functions, for the imports of its plugin world:
    ///
    /// ```ignore
    /// PluginHost::<Session>::builder()
    ///     .imports(|linker| Filter::add_to_linker::<_, HasSelf<Session>>(linker, kiln_plugin::host_data))
    /// ```
    pub fn imports(
        mut self,
        link: impl FnOnce(&mut Linker<StoreState>) -> wasmtime::Result<()> + Send + 'static,
    ) -> Self {
        self.imports.push(Box::new(link));
        self
    }

    /// Builds the engine and its epoch thread, links the imports and opens the stores.
    pub fn build(self) -> Result<PluginHost<D>, PluginError> {
        let runtime = Runtime::new(&self.options).map_err(PluginError::Host)?;
        let mut linker = runtime.new_linker();
        for link in self.imports {
            link(&mut linker).map_err(|e| PluginError::Host(e.into()))?;
        }
        let stores =
            configure_stores(Path::new("."), false, &self.key_value).map_err(PluginError::Host)?;
        Ok(PluginHost {
            inner: Arc::new(HostInner {
                runtime,
                linker,
                stores: EmbedderStores::new(stores),
                artifact_cache: self.artifact_cache,
            }),
            _data: PhantomData,
        })
    }
}

/// Loads plugins and runs them. `D` is what the application's host functions work on during a
/// call (given with each call; `()` when there are none). Cheap to clone; `Send + Sync`.
pub struct PluginHost<D = ()> {
    inner: Arc<HostInner>,
    _data: PhantomData<fn(D)>,
}

struct HostInner {
    runtime: Runtime,
    linker: Linker<StoreState>,
    stores: EmbedderStores,
    artifact_cache: Option<PathBuf>,
}

impl<D> Clone for PluginHost<D> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            _data: PhantomData,
        }
    }
}

impl PluginHost<()> {
    /// A host with the defaults and no imports of its own.
    pub fn new() -> Result<Self, PluginError> {
        Self::builder().build()
    }
}

impl<D: Send + 'static> PluginHost<D> {
    /// A builder with the defaults: pooling, no fuel, no compile cache, no stores, no
    /// imports of the application's own.
    pub fn builder() -> PluginHostBuilder<D> {
        PluginHostBuilder {
            options: RuntimeOptions {
                cache_dir: None,
                ..RuntimeOptions::default()
            },
            key_value: BTreeMap::new(),
            imports: Vec::new(),
            artifact_cache: None,
            _data: PhantomData,
        }
    }

    /// Where plugins pulled by reference are kept.
    #[cfg_attr(not(feature = "oci"), allow(dead_code))]
    pub(crate) fn artifact_dir(&self) -> Option<PathBuf> {
        let configured = self.inner.artifact_cache.clone();
        configured.or_else(|| kiln_runtime::default_cache_dir().map(|dir| dir.join("oci")))
    }

    /// Loads the plugin at `path`: compiles it (a CPU-bound step: milliseconds to seconds for
    /// a large plugin) and checks that the host provides everything it imports.
    pub fn load_file(
        &self,
        path: impl AsRef<Path>,
        config: PluginConfig,
    ) -> Result<Plugin<D>, PluginError> {
        let path = path.as_ref();
        let name = config.name.clone().unwrap_or_else(|| {
            path.file_stem()
                .map_or_else(|| "plugin".into(), |s| s.to_string_lossy().into_owned())
        });
        let wasm = std::fs::read(path).map_err(|reason| PluginError::Unreadable {
            plugin: name.clone(),
            path: path.display().to_string(),
            reason,
        })?;
        self.load_named(&name, path, &wasm, config)
    }

    /// Loads the plugin in `wasm` (a component's bytes), as [`Self::load_file`] does.
    pub fn load(&self, wasm: &[u8], config: PluginConfig) -> Result<Plugin<D>, PluginError> {
        let name = config.name.clone().unwrap_or_else(|| "plugin".into());
        self.load_named(&name, Path::new("<bytes>"), wasm, config)
    }

    fn load_named(
        &self,
        name: &str,
        path: &Path,
        wasm: &[u8],
        config: PluginConfig,
    ) -> Result<Plugin<D>, PluginError> {
        let inner = &self.inner;
        if config.fuel.is_some() && !inner.runtime.counts_fuel() {
            return Err(PluginError::Grant {
                plugin: name.to_string(),
                reason: "a fuel budget needs a host that counts fuel: build it with PluginHostBuilder::fuel(true)".into(),
            });
        }
        let pre = inner
            .runtime
            .pre_link_with(&inner.linker, name, path, wasm)
            .map_err(|e| PluginError::from_load(name, e))?;
        let recipe = InstanceRecipe::embedded(
            &inner.runtime,
            name,
            config.grants(name)?,
            config.key_value_stores.clone(),
            &inner.stores,
            config.limits(),
        )
        .map_err(|e| PluginError::from_load(name, e))?;
        Ok(Plugin::new(name, recipe, pre, &config))
    }
}
