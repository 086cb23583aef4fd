//! Prometheus metrics: requests by component and status, request durations, events by trigger,
//! component and outcome, instances alive, failures by kind, and the pooling allocator's slots. One [`Metrics`] per [`crate::Runtime`];
//! each component gets its [`ComponentMetrics`] at load, so the request path only touches
//! counters it already holds.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::fault::FailureKind;

/// A component id as a label value, shared rather than copied on the request path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ComponentId(Arc<str>);

impl EncodeLabelValue for ComponentId {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ComponentLabels {
    component: ComponentId,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    component: ComponentId,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct FailureLabels {
    component: ComponentId,
    reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct EventLabels {
    trigger: &'static str,
    component: ComponentId,
    outcome: &'static str,
}

type HistogramFamily = Family<ComponentLabels, Histogram, fn() -> Histogram>;

/// Every metric kiln keeps, registered once.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: HistogramFamily,
    events: Family<EventLabels, Counter>,
    instances: Family<ComponentLabels, Gauge>,
    failures: Family<FailureLabels, Counter>,
    pool: PoolGauges,
    components_loaded: Gauge,
    component_reloads: Counter,
}

#[derive(Default)]
struct PoolGauges {
    component_instances: Gauge,
    core_instances: Gauge,
    memories: Gauge,
    tables: Gauge,
    stacks: Gauge,
}

fn duration_histogram() -> Histogram {
    // 100 µs to about 100 s.
    Histogram::new(exponential_buckets(0.0001, 2.5, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("kiln");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by component and status",
            requests.clone(),
        );
        let durations: HistogramFamily = Family::new_with_constructor(duration_histogram);
        registry.register_with_unit(
            "http_request_duration",
            "Time from a request's arrival to its response head, by component",
            prometheus_client::registry::Unit::Seconds,
            durations.clone(),
        );
        let events = Family::<EventLabels, Counter>::default();
        registry.register(
            "trigger_events",
            "Events (requests, messages, runs) by trigger, component and outcome (ok, or the failure's reason)",
            events.clone(),
        );
        let instances = Family::<ComponentLabels, Gauge>::default();
        registry.register(
            "instances_in_flight",
            "Component instances alive now, by component",
            instances.clone(),
        );
        let failures = Family::<FailureLabels, Counter>::default();
        registry.register(
            "failures",
            "Requests and messages that failed, by component and reason (timeout, memory_limit, trap, ...)",
            failures.clone(),
        );
        let components_loaded = Gauge::default();
        registry.register(
            "components_loaded",
            "HTTP components in memory that may be unloaded when unused (--max-loaded-components)",
            components_loaded.clone(),
        );
        let component_reloads = Counter::default();
        registry.register(
            "component_reloads",
            "Times an unloaded component was loaded again for a request",
            component_reloads.clone(),
        );
        let pool = PoolGauges::default();
        for (name, help, gauge) in [
            (
                "pool_component_instances",
                "Pooling allocator: component instance slots in use",
                &pool.component_instances,
            ),
            (
                "pool_core_instances",
                "Pooling allocator: core instance slots in use",
                &pool.core_instances,
            ),
            (
                "pool_memories",
                "Pooling allocator: linear memory slots in use",
                &pool.memories,
            ),
            (
                "pool_tables",
                "Pooling allocator: table slots in use",
                &pool.tables,
            ),
            (
                "pool_stacks",
                "Pooling allocator: async stack slots in use",
                &pool.stacks,
            ),
        ] {
            registry.register(name, help, gauge.clone());
        }
        Self {
            registry,
            requests,
            durations,
            events,
            instances,
            failures,
            pool,
            components_loaded,
            component_reloads,
        }
    }
}

impl Metrics {
    /// The handles one component records into.
    pub(crate) fn for_component(self: &Arc<Self>, id: &Arc<str>) -> ComponentMetrics {
        let labels = ComponentLabels {
            component: ComponentId(id.clone()),
        };
        let failures = FailureKind::ALL.map(|kind| {
            self.failures
                .get_or_create(&FailureLabels {
                    component: labels.component.clone(),
                    reason: kind.as_str(),
                })
                .clone()
        });
        let ok = self
            .requests
            .get_or_create(&RequestLabels {
                component: labels.component.clone(),
                status: 200,
            })
            .clone();
        ComponentMetrics(Arc::new(ComponentHandles {
            ok,
            duration: self.durations.get_or_create(&labels).clone(),
            instances: self.instances.get_or_create(&labels).clone(),
            failures,
            component: labels.component,
            metrics: self.clone(),
        }))
    }

    /// The counters of the events `trigger` (`http`, `redis`, ...) brings component `id`.
    pub(crate) fn events_for(&self, trigger: &'static str, id: &Arc<str>) -> EventCounters {
        let counter = |outcome| {
            self.events
                .get_or_create(&EventLabels {
                    trigger,
                    component: ComponentId(id.clone()),
                    outcome,
                })
                .clone()
        };
        EventCounters {
            ok: counter("ok"),
            failed: Arc::new(FailureKind::ALL.map(|kind| counter(kind.as_str()))),
        }
    }

    /// The Prometheus text exposition of every metric, with the pool's gauges read from `engine`
    /// and `loaded` components in memory.
    pub fn render(&self, engine: &wasmtime::Engine, loaded: usize) -> String {
        self.components_loaded
            .set(i64::try_from(loaded).unwrap_or(i64::MAX));
        if let Some(pool) = engine.pooling_allocator_metrics() {
            let set = |gauge: &Gauge, value: u64| {
                gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
            };
            set(&self.pool.component_instances, pool.component_instances());
            set(&self.pool.core_instances, pool.core_instances());
            set(&self.pool.memories, pool.memories() as u64);
            set(&self.pool.tables, pool.tables() as u64);
            set(&self.pool.stacks, pool.stacks() as u64);
        }
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// One component's metrics. Cheap to clone: each request clones it a few times, so its
/// dozen handles sit behind one shared pointer.
#[derive(Clone)]
pub(crate) struct ComponentMetrics(Arc<ComponentHandles>);

struct ComponentHandles {
    component: ComponentId,
    /// Requests answered 200, the common case, counted without a label lookup.
    ok: Counter,
    duration: Histogram,
    instances: Gauge,
    failures: [Counter; FailureKind::ALL.len()],
    metrics: Arc<Metrics>,
}

impl ComponentMetrics {
    /// Counts a request answered with `status` after `elapsed`.
    pub(crate) fn record_request(&self, status: u16, elapsed: Duration) {
        if status == 200 {
            self.0.ok.inc();
        } else {
            self.0
                .metrics
                .requests
                .get_or_create(&RequestLabels {
                    component: self.0.component.clone(),
                    status,
                })
                .inc();
        }
        self.0.duration.observe(elapsed.as_secs_f64());
    }

    /// Counts a failure of `kind`.
    pub(crate) fn record_failure(&self, kind: FailureKind) {
        self.0.failures[kind.index()].inc();
    }

    /// Counts a load of the component after it was unloaded.
    pub(crate) fn record_reload(&self) {
        self.0.metrics.component_reloads.inc();
    }

    /// Counts an instance as alive until the returned guard is dropped.
    pub(crate) fn instance_alive(&self) -> InstanceAlive {
        self.0.instances.inc();
        InstanceAlive(self.0.instances.clone())
    }
}

/// One component's events from one trigger type, counted without a label lookup.
#[derive(Clone)]
pub(crate) struct EventCounters {
    ok: Counter,
    failed: Arc<[Counter; FailureKind::ALL.len()]>,
}

impl EventCounters {
    /// Counts an event that went well.
    pub(crate) fn record_ok(&self) {
        self.ok.inc();
    }

    /// Counts an event that failed with `kind`.
    pub(crate) fn record_failure(&self, kind: FailureKind) {
        self.failed[kind.index()].inc();
    }
}

/// Held by a store: its instance counts as alive while it exists.
pub(crate) struct InstanceAlive(Gauge);

impl Drop for InstanceAlive {
    fn drop(&mut self) {
        self.0.dec();
    }
}
