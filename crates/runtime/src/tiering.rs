//! Tiered compilation. A component that is not in the compile cache is compiled first by Winch,
//! wasmtime's baseline compiler (one pass, many times quicker than Cranelift), so an app
//! serves within milliseconds of a cold start and thousands of components load in seconds.
//! Cranelift's optimized code is then compiled in the background, at a lower priority than
//! serving, cached, and swapped in: the next instance runs it. The cache keeps both forms; a
//! load takes the optimized one when it is there.

use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use wasmtime::PoolingAllocationConfig;

use crate::backend::Backend;

/// Which compiler makes the code components run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Compiler {
    /// Winch first, then Cranelift's optimized code in the background, swapped in when ready.
    #[default]
    Tiered,
    /// Cranelift only: the slowest start, the fastest code from the first request.
    Cranelift,
    /// Winch only: the quickest start, slower code.
    Winch,
}

impl std::str::FromStr for Compiler {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        match name {
            "tiered" => Ok(Self::Tiered),
            "cranelift" => Ok(Self::Cranelift),
            "winch" => Ok(Self::Winch),
            other => Err(format!(
                "unknown compiler {other:?}: expected tiered, cranelift or winch"
            )),
        }
    }
}

/// A component whose baseline code can be replaced with optimized code.
pub(crate) trait Optimizable: Send + Sync {
    /// Compiles its optimized code (or takes it from the cache) and puts it in use; `false`
    /// when it keeps its baseline code (the failure is logged).
    fn optimize(&self) -> bool;
}

/// The baseline engine, made on the first compile that needs it (a start from a warm cache
/// never does), and the background thread that optimizes what it compiled.
pub(crate) struct Tiering {
    cache_dir: Option<PathBuf>,
    /// The baseline engine's instance pool: one like the optimized engine's.
    pool: Option<PoolingAllocationConfig>,
    baseline: OnceLock<Option<Backend>>,
    optimizer: OnceLock<Mutex<mpsc::Sender<Weak<dyn Optimizable>>>>,
}

/// How much less CPU time optimizing gets than serving when both want it (a nice value:
/// about a tenth of a core's share under contention, all of an idle core).
const OPTIMIZER_NICENESS: libc::c_int = 10;

/// How long the optimizer waits for loading to pause before it starts: compiling beside a
/// start, even at a lower priority, would slow it (a 10,000-component app queues its
/// components one after the other, and is optimized once all of them serve).
const SETTLE: Duration = Duration::from_millis(250);

impl Tiering {
    pub(crate) fn new(cache_dir: Option<PathBuf>, pool: Option<PoolingAllocationConfig>) -> Self {
        Self {
            cache_dir,
            pool,
            baseline: OnceLock::new(),
            optimizer: OnceLock::new(),
        }
    }

    /// The baseline engine, built on first use; `None` when it cannot be (Cranelift alone then).
    pub(crate) fn baseline(&self) -> Option<&Backend> {
        self.baseline
            .get_or_init(|| {
                let mut config = crate::backend::base_config();
                crate::backend::use_winch(&mut config);
                crate::backend::new_engine(config, self.pool.as_ref())
                    .and_then(|engine| Backend::new(engine, self.cache_dir.as_ref()))
                    .inspect_err(|e| {
                        tracing::warn!(
                            "baseline compiler unavailable ({e:#}): compiling with Cranelift only"
                        )
                    })
                    .ok()
            })
            .as_ref()
    }

    /// Queues `component` for optimizing on the background thread, starting it if need be.
    pub(crate) fn optimize_later(&self, component: Weak<dyn Optimizable>) {
        let jobs = self.optimizer.get_or_init(|| Mutex::new(start_optimizer()));
        let jobs = jobs.lock().unwrap_or_else(|e| e.into_inner());
        if jobs.send(component).is_err() {
            tracing::warn!("the optimizer thread has stopped: components keep their baseline code");
        }
    }
}

/// Starts the thread that optimizes queued components one at a time, each compile spread over
/// every core by a thread pool of its own whose threads yield to serving.
fn start_optimizer() -> mpsc::Sender<Weak<dyn Optimizable>> {
    let (sender, jobs) = mpsc::channel::<Weak<dyn Optimizable>>();
    let run = move || {
        let pool = rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("kiln-optimize-{i}"))
            .start_handler(|_| lower_priority())
            .build();
        let optimize_all = move || {
            while let Some(batch) = settled_batch(&jobs) {
                let started = Instant::now();
                let optimized = batch
                    .iter()
                    .filter_map(Weak::upgrade)
                    .filter(|component| component.optimize())
                    .count();
                if optimized > 0 {
                    tracing::info!(
                        "optimized code in use for {optimized} component{} (compiled in {:.1?})",
                        if optimized == 1 { "" } else { "s" },
                        started.elapsed()
                    );
                }
            }
        };
        match pool {
            Ok(pool) => pool.install(optimize_all),
            Err(e) => {
                tracing::warn!("optimizing on one thread: {e}");
                lower_priority();
                optimize_all();
            }
        }
    };
    if let Err(e) = std::thread::Builder::new()
        .name("kiln-optimize".into())
        .spawn(run)
    {
        tracing::warn!("cannot start the optimizer thread: {e}");
    }
    sender
}

/// The components queued until none has been for [`SETTLE`]; `None` once the runtime is gone.
fn settled_batch(
    jobs: &mpsc::Receiver<Weak<dyn Optimizable>>,
) -> Option<Vec<Weak<dyn Optimizable>>> {
    let mut batch = vec![jobs.recv().ok()?];
    while let Ok(job) = jobs.recv_timeout(SETTLE) {
        batch.push(job);
    }
    Some(batch)
}

/// Lowers the calling thread's scheduling priority (on Linux, a nice value is per thread).
fn lower_priority() {
    // SAFETY: setpriority only reads its arguments; `0` names the calling thread.
    let failed = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, OPTIMIZER_NICENESS) } != 0;
    if failed {
        tracing::debug!(
            "cannot lower the optimizer's priority: {}",
            std::io::Error::last_os_error()
        );
    }
}
