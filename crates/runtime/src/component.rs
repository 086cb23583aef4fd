//! [`Component`]: a component as a trigger calls it, through one [`Export`] (an HTTP handler,
//! a message handler, ...). It owns what every call shares: the instance recipe (capabilities,
//! limits, metrics), the pre-linked export, and its residency: a component whose compiled form
//! is in the compile cache may be unloaded when it goes unused and the runtime's budget of
//! loaded components is full ([`crate::residency`]); its next call loads it again.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use arc_swap::ArcSwapOption;
use wasmtime::component::InstancePre;
use wasmtime::Store;
use wasmtime_wasi::WasiCtxBuilder;

use crate::fault::{Failure, FailureKind};
use crate::instance::InstanceRecipe;
use crate::limits::ComponentLimits;
use crate::loader::{Linked, Source};
use crate::metrics::EventCounters;
use crate::residency::Resident;
use crate::store::StoreState;
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
    export: ArcSwapOption<E>,
    /// Taken while the component loads again, so it loads once however many calls wait.
    loading: tokio::sync::Mutex<()>,
    /// Where it loads again from: its compile cache entry, else its source (which must still
    /// have the digest it was loaded with).
    cached: Option<PathBuf>,
    source: Source,
    last_used: AtomicU64,
}

impl<E: Export> Component<E> {
    /// The component pre-linked as `linked`, made into its export `E`.
    pub(crate) fn new(recipe: InstanceRecipe, linked: Linked) -> Result<Self, LoadError> {
        let export = E::new(&recipe, linked.pre)?;
        let runtime = recipe.runtime.clone();
        let inner = Arc::new(Inner {
            last_used: AtomicU64::new(runtime.residency().now()),
            events: runtime.metrics().events_for(E::TRIGGER, &recipe.id),
            recipe,
            export: ArcSwapOption::from_pointee(export),
            loading: tokio::sync::Mutex::new(()),
            cached: linked.cached,
            source: linked.source,
        });
        // Only a component that loads again cheaply may be unloaded.
        if inner.cached.is_some() {
            runtime
                .residency()
                .admit(Arc::downgrade(&inner) as Weak<dyn Resident>);
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
            let mut store = recipe.new_store_with(wasi).map_err(|e| {
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
    pub(crate) async fn loaded(self: &Arc<Self>) -> Result<Arc<E>, Failure> {
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
    fn reload(&self) -> Result<E, LoadError> {
        let (runtime, id) = (&self.recipe.runtime, &*self.recipe.id);
        let relinked = match &self.cached {
            Some(cached) => crate::loader::relink(runtime, id, cached),
            None => Err(LoadError::NotCached { id: id.to_string() }),
        };
        let pre = match relinked {
            Ok(pre) => pre,
            Err(e) => {
                tracing::warn!(component_id = %id, "{e}; compiling it again");
                crate::loader::pre_link(runtime, id, &self.source)?.pre
            }
        };
        E::new(&self.recipe, pre)
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
