//! [`Backend`]: a wasmtime engine configured as kiln runs guests, with its epoch ticking, the
//! linker of every host capability, and its part of the compile cache.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use wasmtime::component::Linker;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::cache::{CompileCache, Compiled};
use crate::store::StoreState;

/// How often the epoch advances. A running guest yields to the async executor at each tick, so
/// a busy guest never holds a runtime thread for longer than this.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// An engine with its linker and its part of the compile cache.
pub(crate) struct Backend {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<StoreState>,
    pub(crate) cache: Option<CompileCache>,
}

impl Backend {
    /// `engine`, with every host capability linked, its epoch ticking, and its compiled code
    /// cached under `cache_dir`.
    pub(crate) fn new(engine: Engine, cache_dir: Option<&PathBuf>) -> anyhow::Result<Self> {
        start_epoch_ticker(&engine).context("starting the epoch thread")?;
        let mut linker = Linker::new(&engine);
        crate::store::link(&mut linker).context("linking host capabilities")?;
        Ok(Self {
            cache: cache_dir.map(|dir| CompileCache::new(dir.clone(), &engine)),
            engine,
            linker,
        })
    }

    /// `wasm` compiled by this engine and cached under `key` (taken from the cache when it is
    /// there), with the cache entry's path when it is on disk.
    pub(crate) fn compile<T: Compiled>(
        &self,
        wasm: &[u8],
        key: &str,
    ) -> anyhow::Result<(T, Option<PathBuf>)> {
        let build = || Ok(T::compile(&self.engine, wasm)?);
        match &self.cache {
            Some(cache) => cache.load_or_build(&self.engine, key, build),
            None => Ok((build()?, None)),
        }
    }
}

/// What every engine of kiln's is configured with.
pub(crate) fn base_config() -> Config {
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.wasm_component_model(true);
    // WASI 0.3 components (`wasi:http/handler@0.3`) use the component model's async ABI.
    config.wasm_component_model_async(true);
    // Copy-on-write images make instantiating a memory with data segments a page-table update.
    config.memory_init_cow(true);
    config
}

/// The engine `config` makes, its instances allocated from `pool` when there is one and it
/// can be reserved, else on demand.
pub(crate) fn new_engine(
    mut config: Config,
    pool: Option<&PoolingAllocationConfig>,
) -> anyhow::Result<Engine> {
    if let Some(pool) = pool {
        let mut pooled = config.clone();
        pooled.allocation_strategy(InstanceAllocationStrategy::Pooling(pool.clone()));
        match Engine::new(&pooled) {
            Ok(engine) => return Ok(engine),
            Err(e) => tracing::warn!(
                "pooling allocator unavailable ({e}); instances will be allocated on demand"
            ),
        }
    }
    config.allocation_strategy(InstanceAllocationStrategy::OnDemand);
    Ok(Engine::new(&config)?)
}

/// Makes `config` compile with Winch. The trampolines between host and guest, which Winch
/// leaves to Cranelift (one per function a table or an export can reach: hundreds in a Rust
/// guest), are compiled without optimizing and with the single-pass register allocator: they
/// are short, and were a third of a baseline compile.
pub(crate) fn use_winch(config: &mut Config) {
    config.strategy(wasmtime::Strategy::Winch);
    config.cranelift_opt_level(wasmtime::OptLevel::None);
    config.cranelift_regalloc_algorithm(wasmtime::RegallocAlgorithm::SinglePass);
}

/// Advances the engine's epoch every [`EPOCH_TICK`] from a background thread, for as long as
/// the engine lives.
pub(crate) fn start_epoch_ticker(engine: &Engine) -> std::io::Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("kiln-epoch".into())
        .spawn(move || loop {
            std::thread::sleep(EPOCH_TICK);
            match weak.upgrade() {
                Some(engine) => engine.increment_epoch(),
                None => break,
            }
        })?;
    Ok(())
}
