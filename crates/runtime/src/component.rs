//! [`Component`]: a component as a trigger calls it, through one [`Export`] (an HTTP handler,
//! a message handler, ...). It owns what every call shares: the instance recipe (capabilities,
//! limits, metrics), the pre-linked export, and its residency: a component whose compiled form
//! is in the compile cache may be unloaded when it goes unused and the runtime's budget of
//! loaded components is full ([`crate::residency`]); its next call loads it again. A component
//! that starts on baseline code has its optimized code swapped in when the background has
//! compiled it ([`crate::tiering`]).

use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use arc_swap::ArcSwapOption;
use wasmtime::component::InstancePre;
use wasmtime::{Engine, Store};
use wasmtime_wasi::WasiCtxBuilder;

use crate::code::CodeTier;
use crate::fault::{Failure, FailureKind};
use crate::instance::InstanceRecipe;
use crate::limits::ComponentLimits;
use crate::loader::{CachedCode, Linked, Source};
use crate::metrics::EventCounters;
use crate::residency::Resident;
use crate::store::StoreState;
use crate::tiering::Optimizable;
use crate::traces::EventTrace;
use crate::LoadError;

/// What a trigger calls in a component, made from the pre-linked component. Making it checks
/// that the component has the export (as a `bindgen!` world's `...Pre::new` does).
pub trait Export: Send + Sync + Sized + 'static {
    /// The trigger type whose events call it (`http`, `redis`, ...), for metrics.
    const TRIGGER: &'static str;

    /// The export of the component that `recipe` instantiates, pre-linked as `pre`; a
    /// [`LoadError::MissingExport`] when it has none.
    fn new(recipe: &InstanceRecipe, pre: InstancePre<StoreState>) -> Result<Self, LoadError>;
}

/// A loaded component, called through its export `E`. Cheap to clone.
pub struct Component<E> {
    pub(crate) inner: Arc<Inner<E>>,
}

impl<E> Clone for Component<E> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

pub(crate) struct Inner<E> {
    pub(crate) recipe: InstanceRecipe,
    /// Its events' outcomes, counted by trigger ([`Export::TRIGGER`]).
    pub(crate) events: EventCounters,
    /// The loaded form; `None` while unloaded.
    export: ArcSwapOption<Loaded<E>>,
    /// Taken while the component loads again or its code is replaced, so that happens once
    /// however many calls wait.
    loading: tokio::sync::Mutex<()>,
    /// Where it loads again from: its compile cache entry, else its source (which must still
    /// have the digest it was loaded with).
    cached: Mutex<Option<CachedCode>>,
    source: Source,
    last_used: AtomicU64,
}

/// A loaded export, with the engine that compiled its code: its instances' stores need it.
pub(crate) struct Loaded<E> {
    export: E,
    engine: Engine,
}

impl<E: Export> Loaded<E> {
    fn new(recipe: &InstanceRecipe, pre: InstancePre<StoreState>) -> Result<Self, LoadError> {
        let engine = pre.engine().clone();
        Ok(Self {
            export: E::new(recipe, pre)?,
            engine,
        })
    }
}

impl<E> Deref for Loaded<E> {
    type Target = E;

    fn deref(&self) -> &E {
        &self.export
    }
}

impl<E: Export> Component<E> {
    /// The component pre-linked as `linked`, made into its export `E`.
    pub(crate) fn new(recipe: InstanceRecipe, linked: Linked) -> Result<Self, LoadError> {
        let export = Loaded::new(&recipe, linked.pre)?;
        let runtime = recipe.runtime.clone();
        let reloadable = linked.cached.is_some();
        let inner = Arc::new(Inner {
            last_used: AtomicU64::new(runtime.residency().now()),
            events: runtime.metrics().events_for(E::TRIGGER, &recipe.id),
            recipe,
            export: ArcSwapOption::from_pointee(export),
            loading: tokio::sync::Mutex::new(()),
            cached: Mutex::new(linked.cached),
            source: linked.source,
        });
        // Only a component that loads again cheaply may be unloaded.
        if reloadable {
            runtime
                .residency()
                .admit(Arc::downgrade(&inner) as Weak<dyn Resident>);
        }
        if linked.tier == CodeTier::Baseline {
            runtime.optimize_later(Arc::downgrade(&inner) as Weak<dyn Optimizable>);
        }
        Ok(Self { inner })
    }

    /// The component id.
    pub fn id(&self) -> &str {
        &self.inner.recipe.id
    }

    /// The limits the component runs under.
    pub fn limits(&self) -> &ComponentLimits {
        &self.inner.recipe.limits
    }

    /// Runs `work` ("Redis message", "cron event") that `label` (a channel, a schedule) brought,
    /// as one call: a request slot of the component, a fresh instance, and `run` on it (which
    /// instantiates through the export and calls it), stopped at the component's timeout. A
    /// failure is classified, logged and counted here, once; its kind is returned.
    pub async fn call<R>(
        &self,
        work: &'static str,
        label: &Arc<str>,
        run: impl AsyncFnOnce(&E, &mut Store<StoreState>) -> wasmtime::Result<R>,
    ) -> Result<R, FailureKind> {
        self.call_with(work, label, |_| {}, run).await
    }

    /// Like [`Self::call`], with `wasi` changing the instance's WASI context before it is made
    /// (a command's arguments and stdio).
    pub async fn call_with<R>(
        &self,
        work: &'static str,
        label: &Arc<str>,
        wasi: impl FnOnce(&mut WasiCtxBuilder),
        run: impl AsyncFnOnce(&E, &mut Store<StoreState>) -> wasmtime::Result<R>,
    ) -> Result<R, FailureKind> {
        let recipe = &self.inner.recipe;
        let deadline = recipe.limits.deadline();
        let trace = EventTrace::event(E::TRIGGER, work, &recipe.id, label);
        let result = async {
            let _slot = recipe.acquire_slot().await?;
            let export = self.inner.loaded().await?;
            let mut store = recipe.new_store_with(&export.engine, wasi).map_err(|e| {
                Failure::new(FailureKind::GuestError, e.context("creating the instance"))
            })?;
            if let Some(trace) = &trace {
                store.data_mut().join_trace(trace.for_instance());
            }
            let outcome = tokio::time::timeout_at(deadline, run(&export, &mut store)).await;
            store.data_mut().handled();
            match outcome {
                Ok(outcome) => outcome.map_err(Failure::from_guest),
                Err(_) => Err(Failure::timed_out(recipe.limits.timeout)),
            }
        }
        .await;
        let failure = result.as_ref().err().map(|failure| failure.kind);
        if let Some(trace) = &trace {
            trace.outcome(failure);
        }
        match result {
            Ok(value) => {
                self.inner.events.record_ok();
                Ok(value)
            }
            Err(failure) => {
                recipe.report(work, label).failure(&failure);
                self.inner.events.record_failure(failure.kind);
                Err(failure.kind)
            }
        }
    }
}

impl<E: Export> Inner<E> {
    /// The loaded export, loading it again from the compile cache if it was unloaded.
    pub(crate) async fn loaded(self: &Arc<Self>) -> Result<Arc<Loaded<E>>, Failure> {
        let now = self.recipe.runtime.residency().now();
        // Written only when it changes: calls on other threads keep reading a shared line.
        if self.last_used.load(Ordering::Relaxed) != now {
            self.last_used.store(now, Ordering::Relaxed);
        }
        if let Some(export) = self.export.load_full() {
            return Ok(export);
        }
        let _loading = self.loading.lock().await;
        if let Some(export) = self.export.load_full() {
            return Ok(export);
        }
        let inner = self.clone();
        let reloaded = tokio::task::spawn_blocking(move || inner.reload())
            .await
            .map_err(|e| Failure::new(FailureKind::LoadFailed, e))?
            .map_err(|e| Failure::new(FailureKind::LoadFailed, e))?;
        let export = Arc::new(reloaded);
        self.recipe.metrics.record_reload();
        self.export.store(Some(export.clone()));
        let weak = Arc::downgrade(self);
        self.recipe
            .runtime
            .residency()
            .admit(weak as Weak<dyn Resident>);
        Ok(export)
    }

    /// Links the component again from its compile cache entry; if that is gone, compiles its
    /// source again, provided the source still has the digest it was loaded with.
    fn reload(&self) -> Result<Loaded<E>, LoadError> {
        let (runtime, id) = (&self.recipe.runtime, &*self.recipe.id);
        let cached = self
            .cached
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let relinked = match &cached {
            Some(cached) => crate::loader::relink(runtime, id, cached),
            None => Err(LoadError::NotCached { id: id.to_string() }),
        };
        let pre = match relinked {
            Ok(pre) => pre,
            Err(e) => {
                tracing::warn!(component_id = %id, "{e}; compiling it again");
                let linked =
                    crate::loader::pre_link(runtime, id, &self.source, CodeTier::Optimized)?;
                // Its next reload starts from the entry this compile wrote.
                *self.cached.lock().unwrap_or_else(|e| e.into_inner()) = linked.cached;
                linked.pre
            }
        };
        Loaded::new(&self.recipe, pre)
    }
}

impl<E: Export> Optimizable for Inner<E> {
    fn optimize(&self) -> bool {
        let (runtime, id) = (&self.recipe.runtime, &*self.recipe.id);
        let started = Instant::now();
        let optimized = crate::loader::pre_link(runtime, id, &self.source, CodeTier::Optimized)
            .and_then(|linked| Ok((Loaded::new(&self.recipe, linked.pre)?, linked.cached)));
        let (export, cached) = match optimized {
            Ok(optimized) => optimized,
            Err(e) => {
                tracing::warn!(component_id = %id, "keeps its baseline code: {e}");
                return false;
            }
        };
        // Not while it loads again: that reads the cache entry this replaces.
        let _loading = self.loading.blocking_lock();
        *self.cached.lock().unwrap_or_else(|e| e.into_inner()) = cached;
        // An unloaded component loads the optimized code next time.
        if self.export.load().is_some() {
            self.export.store(Some(Arc::new(export)));
        }
        tracing::debug!(
            component_id = %id,
            "optimized code in use (compiled in {:.0?})",
            started.elapsed()
        );
        true
    }
}

impl<E: Export> Resident for Inner<E> {
    fn last_used(&self) -> u64 {
        self.last_used.load(Ordering::Relaxed)
    }

    fn unload(&self) -> Option<Box<dyn Send>> {
        let export = self.export.swap(None)?;
        Some(Box::new(export))
    }
}
