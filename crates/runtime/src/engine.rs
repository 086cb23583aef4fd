//! The process-wide [`Runtime`]: the wasmtime engine and its configuration, the epoch ticker,
//! the compile cache and the linkers every component is pre-linked with.

use std::path::PathBuf;
use std::sync::Arc;

use wasmtime::component::Linker;
use wasmtime::{Enabled, Engine, PoolingAllocationConfig};

use crate::backend::{base_config, new_engine, Backend};
use crate::cache::CompileCache;
use crate::metrics::Metrics;
use crate::residency::Residency;
use crate::store::StoreState;
use crate::tiering::{Compiler, Tiering};

/// Settings for a [`Runtime`].
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Where compiled components are cached; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Use the pooling instance allocator (falls back to on-demand if the pool cannot be reserved).
    pub pooling: bool,
    /// Most component instances alive at once, when pooling. The pool sets up every slot at
    /// start (a fiber stack costs a system call), so a host sizes it to what it admits:
    /// see [`RuntimeOptions::sized_for`]. With [`Compiler::Tiered`], the baseline code's
    /// instances have a pool like it of their own.
    pub max_instances: u32,
    /// Most HTTP components kept loaded at once; past it the least recently used are
    /// unloaded and load again from the compile cache on their next request.
    pub max_loaded_components: usize,
    /// Count fuel, so that an embedder can give a call a deterministic budget of work
    /// ([`InstanceRecipe::new_store`](crate::InstanceRecipe::new_store) starts every store with
    /// an unlimited one). Every guest runs a little slower with it on. Only Cranelift counts
    /// fuel: with it on, [`Compiler::Tiered`] compiles with Cranelift only.
    pub fuel: bool,
    /// Which compiler makes the code components run ([`crate::tiering`]).
    pub compiler: Compiler,
}

/// The default of [`RuntimeOptions::max_loaded_components`].
pub const DEFAULT_MAX_LOADED_COMPONENTS: usize = 1000;

/// The default, and the most [`RuntimeOptions::sized_for`] sizes a pool to, of
/// [`RuntimeOptions::max_instances`].
const DEFAULT_MAX_INSTANCES: u32 = 1000;

impl RuntimeOptions {
    /// The defaults, with a pool for `instances` instances alive at once (at most 1000): what
    /// the sum of [`crate::ComponentLimits::instances_needed`] over what the app's triggers call
    /// says a host admits.
    pub fn sized_for(instances: u32) -> Self {
        Self {
            max_instances: instances.min(DEFAULT_MAX_INSTANCES),
            ..Self::default()
        }
    }
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            cache_dir: default_cache_dir(),
            pooling: true,
            max_instances: DEFAULT_MAX_INSTANCES,
            max_loaded_components: DEFAULT_MAX_LOADED_COMPONENTS,
            fuel: false,
            compiler: Compiler::default(),
        }
    }
}

/// kiln's cache directory: `$KILN_CACHE_DIR`, else `$XDG_CACHE_HOME/kiln`, else
/// `~/.cache/kiln`.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("KILN_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("kiln"))
}

/// One engine and everything shared by all the components it runs. Cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    /// Cranelift's, or Winch's when that is the only compiler.
    optimized: Backend,
    /// Set when components start on baseline code ([`Compiler::Tiered`]).
    tiering: Option<Tiering>,
    metrics: Arc<Metrics>,
    residency: Residency,
    fuel: bool,
}

impl Runtime {
    /// Builds the engine, starts the epoch ticker and links every capability.
    pub fn new(options: &RuntimeOptions) -> anyhow::Result<Self> {
        if options.fuel && options.compiler == Compiler::Winch {
            anyhow::bail!("counting fuel needs the Cranelift compiler, not Winch");
        }
        let tiered = options.compiler == Compiler::Tiered && !options.fuel;
        Ok(Self {
            inner: Arc::new(Inner {
                optimized: Backend::new(build_engine(options)?, options.cache_dir.as_ref())?,
                tiering: tiered.then(|| Tiering::new(options.cache_dir.clone(), pool(options))),
                metrics: Arc::default(),
                residency: Residency::new(options.max_loaded_components),
                fuel: options.fuel,
            }),
        })
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.optimized.engine
    }

    /// Whether its stores count fuel ([`RuntimeOptions::fuel`]).
    pub fn counts_fuel(&self) -> bool {
        self.inner.fuel
    }

    /// A linker with every host interface kiln provides, for an embedder to add its own
    /// imports to before it pre-links components with it.
    pub fn new_linker(&self) -> Linker<StoreState> {
        self.inner.optimized.linker.clone()
    }

    /// The metrics of everything this runtime runs.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// The Prometheus text exposition of the runtime's metrics.
    pub fn render_metrics(&self) -> String {
        let loaded = self.inner.residency.loaded();
        self.inner.metrics.render(self.engine(), loaded)
    }

    pub(crate) fn linker(&self) -> &Linker<StoreState> {
        &self.inner.optimized.linker
    }

    pub(crate) fn cache(&self) -> Option<&CompileCache> {
        self.inner.optimized.cache.as_ref()
    }

    pub(crate) fn optimized(&self) -> &Backend {
        &self.inner.optimized
    }

    pub(crate) fn tiering(&self) -> Option<&Tiering> {
        self.inner.tiering.as_ref()
    }

    pub(crate) fn residency(&self) -> &Residency {
        &self.inner.residency
    }
}

/// The engine whose code components keep running.
fn build_engine(options: &RuntimeOptions) -> anyhow::Result<Engine> {
    let mut config = base_config();
    config.consume_fuel(options.fuel);
    if options.compiler == Compiler::Winch {
        crate::backend::use_winch(&mut config);
    }
    new_engine(config, pool(options).as_ref())
}

/// The instance pool of `options`, when they pool.
fn pool(options: &RuntimeOptions) -> Option<PoolingAllocationConfig> {
    options
        .pooling
        .then(|| pooling_config(options.max_instances))
}

// Most core instances, memories and tables one component may hold.
const MAX_CORE_INSTANCES_PER_COMPONENT: u32 = 32;
const MAX_MEMORIES_PER_COMPONENT: u32 = 4;
const MAX_TABLES_PER_COMPONENT: u32 = 16;

/// Pool sizes for `max_instances` components, each with a few core instances, memories and
/// tables on average, and room for at least one of the largest. Slots stay reserved (virtual
/// memory only) until used.
fn pooling_config(max_instances: u32) -> PoolingAllocationConfig {
    let instances = max_instances.max(1);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(instances);
    pool.total_core_instances(
        instances
            .saturating_mul(4)
            .max(MAX_CORE_INSTANCES_PER_COMPONENT),
    );
    pool.total_memories(instances.saturating_mul(2).max(MAX_MEMORIES_PER_COMPONENT));
    pool.total_tables(instances.saturating_mul(4).max(MAX_TABLES_PER_COMPONENT));
    // An instance may hold two fiber stacks at a moment (one call starting as another
    // unwinds), and a shared 0.3 instance one per request it serves. A full-size pool keeps
    // one per instance: a stack costs a system call at start.
    pool.total_stacks(
        instances
            .saturating_mul(2)
            .min(instances.max(DEFAULT_MAX_INSTANCES)),
    );
    pool.max_core_instances_per_component(MAX_CORE_INSTANCES_PER_COMPONENT);
    pool.max_memories_per_component(MAX_MEMORIES_PER_COMPONENT);
    pool.max_tables_per_component(MAX_TABLES_PER_COMPONENT);
    pool.max_memory_size(1 << 32);
    // Keep a little of each slot resident so reuse does not fault pages back in: the first
    // pages of a memory, a table, and the part of an async stack a request typically uses.
    pool.linear_memory_keep_resident(2 << 20);
    pool.table_keep_resident(64 << 10);
    pool.async_stack_keep_resident(1 << 20);
    // Where the kernel can say which pages an instance dirtied (Linux 6.7+), reset only those:
    // otherwise the whole kept-resident part of every memory is zeroed after every request.
    pool.pagemap_scan(Enabled::Auto);
    pool
}
