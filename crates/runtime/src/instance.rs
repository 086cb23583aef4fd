//! [`InstanceRecipe`]: what every instance of one component is made from (its capabilities,
//! its limits, its metrics), and [`Report`], the one place a failed request or message is logged
//! and counted.

use std::sync::Arc;

use tokio::sync::OwnedSemaphorePermit;
use wasmtime::{Engine, Store};
use wasmtime_wasi::WasiCtxBuilder;

use crate::fault::{Failure, FailureKind};
use crate::limits::ComponentLimits;
use crate::metrics::ComponentMetrics;
use crate::store::{wasi_builder, ComponentCapabilities, StoreState};
use crate::{LoadError, Runtime};

/// Everything a component's instances share: its capabilities, its limits, its metrics.
/// Built once per component at load.
#[derive(Clone)]
pub struct InstanceRecipe {
    pub(crate) id: Arc<str>,
    pub(crate) runtime: Runtime,
    pub(crate) capabilities: Arc<ComponentCapabilities>,
    pub(crate) limits: Arc<ComponentLimits>,
    pub(crate) metrics: ComponentMetrics,
}

impl InstanceRecipe {
    /// The load error of this component when it lacks `export`, which `what` has.
    pub fn missing_export(&self, export: &'static str, what: &'static str) -> LoadError {
        LoadError::MissingExport {
            id: self.id.to_string(),
            export,
            what,
        }
    }

    pub(crate) fn new(
        runtime: &Runtime,
        id: &str,
        capabilities: Arc<ComponentCapabilities>,
        limits: ComponentLimits,
    ) -> Self {
        let id: Arc<str> = id.into();
        Self {
            metrics: runtime.metrics().for_component(&id),
            id,
            runtime: runtime.clone(),
            capabilities,
            limits: Arc::new(limits),
        }
    }

    /// The component id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The limits its instances run under.
    pub fn limits(&self) -> &ComponentLimits {
        &self.limits
    }

    /// One of the component's request slots (`max_concurrent`), waited for a short while;
    /// a busy failure when none frees up.
    pub async fn acquire_slot(&self) -> Result<OwnedSemaphorePermit, Failure> {
        self.limits.acquire_slot().await.ok_or_else(|| {
            Failure::msg(
                FailureKind::Busy,
                format_args!(
                    "all {} request slots of the component stayed busy (max_concurrent)",
                    self.limits.max_concurrent()
                ),
            )
        })
    }

    /// A new store for one instance, with the component's capabilities and limits (and, when
    /// the runtime counts fuel, as much as it can hold).
    pub fn new_store(&self) -> anyhow::Result<Store<StoreState>> {
        self.new_store_with(self.runtime.engine(), |_| {})
    }

    /// Like [`Self::new_store`], for code compiled by `engine` (the runtime's, or its baseline
    /// engine's), with `wasi` changing the instance's WASI context first (arguments, stdio).
    pub(crate) fn new_store_with(
        &self,
        engine: &Engine,
        wasi: impl FnOnce(&mut WasiCtxBuilder),
    ) -> anyhow::Result<Store<StoreState>> {
        let caps = &self.capabilities;
        let mut builder = wasi_builder(&caps.grants)?;
        wasi(&mut builder);
        let wasi = builder.build();
        let state = StoreState::new(&self.id, caps, wasi, &self.limits, &self.metrics);
        let mut store = state.into_store(engine);
        if self.runtime.counts_fuel() {
            store.set_fuel(u64::MAX)?;
        }
        Ok(store)
    }

    /// Reports failures of the `work` ("request", "Redis message") that `trigger` (a route,
    /// a channel) gave this component.
    pub(crate) fn report(&self, work: &'static str, trigger: &Arc<str>) -> Report {
        Report {
            work,
            component_id: self.id.clone(),
            trigger: trigger.clone(),
            metrics: self.metrics.clone(),
        }
    }
}

/// Logs and counts the failures of one request or message. A failure is reported by whoever
/// ends up holding it: the call that returns it to the trigger, the response body that ends
/// with it, or the instance whose outcome nobody waits for any more.
#[derive(Clone)]
pub(crate) struct Report {
    work: &'static str,
    component_id: Arc<str>,
    trigger: Arc<str>,
    metrics: ComponentMetrics,
}

impl Report {
    /// Logs `failure` with the component id, route and reason, and counts it.
    pub(crate) fn failure(&self, failure: &Failure) {
        self.metrics.record_failure(failure.kind);
        let (id, route, reason) = (&self.component_id, &self.trigger, failure.kind);
        let (work, summary) = (self.work, failure.summary());
        if failure.kind == FailureKind::Busy {
            tracing::warn!(component_id = %id, route = %route, reason = %reason, "{work} refused: {summary}");
        } else {
            tracing::error!(component_id = %id, route = %route, reason = %reason, "{work} failed: {summary}");
            tracing::debug!(component_id = %id, "{work} failure in full: {:?}", failure.error);
        }
    }
}
