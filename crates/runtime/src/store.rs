//! [`StoreState`]: the `T` of every `Store<T>` kiln creates, holding one instance's WASI context
//! and the state of every capability. The list of capabilities is here ([`capabilities!`]):
//! from it follow the app's capability state, each component's grants and each instance's
//! fields. Adding a capability is its module plus one line in the list.

use std::any::Any;
use std::sync::Arc;

use kiln_manifest::ComponentSpec;
use wasmtime::component::{Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::capabilities::capability::{AppContext, Capability, ComponentContext};
use crate::capabilities::key_value::KeyValue;
use crate::capabilities::mqtt::Mqtt;
use crate::capabilities::mysql::Mysql;
use crate::capabilities::outbound::http::OutboundHttp;
use crate::capabilities::postgres::Postgres;
use crate::capabilities::redis::Redis;
use crate::capabilities::sqlite::Sqlite;
use crate::capabilities::unconfigured::Unconfigured;
use crate::capabilities::variables::Variables;
use crate::grants::{Grants, GuestStdio};
use crate::limits::{ComponentLimits, InstanceLimiter};
use crate::metrics::{ComponentMetrics, InstanceAlive};
use crate::network::Outbound;
use crate::traces::InstanceTrace;
use crate::LoadError;

/// Generates, from the list of capabilities (`field: Capability`, in dependency order), the
/// state of an app, of a component and of an instance, and the linking of them all.
macro_rules! capabilities {
    ($($name:ident: $capability:ty,)*) => {
        /// Every capability's state for one app, configured once at load.
        #[derive(Default)]
        pub(crate) struct AppCapabilities {
            $(pub(crate) $name: <$capability as Capability>::AppState,)*
        }

        /// What every capability grants one component; shared by its instances.
        pub(crate) struct ComponentCapabilities {
            /// Its WASI grants.
            pub(crate) grants: Arc<Grants>,
            $($name: Arc<<$capability as Capability>::ComponentState>,)*
        }

        /// One instance's state of every capability.
        struct InstanceCapabilities {
            $($name: <$capability as Capability>::InstanceState,)*
        }

        impl AppCapabilities {
            /// Configures every capability for `app`, in list order.
            pub(crate) async fn configure(app: &AppContext<'_>) -> Result<Self, LoadError> {
                Ok(Self {
                    $($name: <$capability>::configure_app(app).await?,)*
                })
            }
        }

        impl ComponentCapabilities {
            /// What every capability of `app` grants `component`.
            pub(crate) fn configure(
                app: &AppCapabilities,
                component: &ComponentContext<'_>,
            ) -> Result<Self, LoadError> {
                Ok(Self {
                    grants: component.grants.clone(),
                    $($name: Arc::new(<$capability>::configure_component(&app.$name, component)?),)*
                })
            }
        }

        impl InstanceCapabilities {
            fn new(component: &ComponentCapabilities, id: &Arc<str>) -> Self {
                Self {
                    $($name: <$capability>::new_instance(&component.$name, id),)*
                }
            }
        }

        fn link_capabilities(linker: &mut Linker<StoreState>) -> anyhow::Result<()> {
            $(<$capability>::link(linker, |state| &mut state.capabilities.$name)?;)*
            Ok(())
        }
    };
}

capabilities! {
    variables: Variables,
    key_value: KeyValue,
    sqlite: Sqlite,
    outbound_http: OutboundHttp,
    redis: Redis,
    mqtt: Mqtt,
    postgres: Postgres,
    mysql: Mysql,
    llm: Unconfigured,
    messaging: crate::capabilities::messaging::Messaging,
}

impl ComponentCapabilities {
    /// What a lone component (`kiln serve`, `kiln run`) is granted: `grants`, and nothing of
    /// any app.
    pub(crate) fn standalone(id: &Arc<str>, grants: Grants) -> Result<Self, LoadError> {
        let spec = ComponentSpec {
            id: id.to_string(),
            ..ComponentSpec::default()
        };
        let context = ComponentContext {
            id,
            spec: &spec,
            grants: &Arc::new(grants),
        };
        Self::configure(&AppCapabilities::default(), &context)
    }
}

/// Adds WASI 0.2 and 0.3 (with `wasi:http`) and every capability's host functions to `linker`.
pub(crate) fn link(linker: &mut Linker<StoreState>) -> anyhow::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)?;
    wasmtime_wasi::p3::add_to_linker(linker)?;
    wasmtime_wasi_http::p3::add_to_linker(linker)?;
    crate::capabilities::outbound::relative::link(linker)?;
    kiln_world::add_types_only_to_linker(linker)?;
    link_capabilities(linker)
}

/// Per-instance state: the resource table WASI and HTTP share, the WASI context, and one field
/// per capability.
pub struct StoreState {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    capabilities: InstanceCapabilities,
    limiter: InstanceLimiter,
    /// The instance's part of its request's trace, when traces are on.
    trace: Option<InstanceTrace>,
    /// What an embedder's own host functions work on ([`Self::set_host_data`]).
    host_data: Option<Box<dyn Any + Send>>,
    _alive: InstanceAlive,
}

impl StoreState {
    /// State for one instance of the component `component_id`, granted `component`, whose WASI
    /// context is `wasi` (built by [`wasi_builder`] from its grants), held to `limits`.
    pub(crate) fn new(
        component_id: &Arc<str>,
        component: &ComponentCapabilities,
        wasi: WasiCtx,
        limits: &ComponentLimits,
        metrics: &ComponentMetrics,
    ) -> Self {
        Self {
            table: ResourceTable::new(),
            wasi,
            http: WasiHttpCtx::new(),
            capabilities: InstanceCapabilities::new(component, component_id),
            limiter: InstanceLimiter::new(limits),
            trace: None,
            host_data: None,
            _alive: metrics.instance_alive(),
        }
    }

    /// Makes the instance part of `trace`: it records its phases there, and its outbound
    /// HTTP requests carry the trace on.
    pub(crate) fn join_trace(&mut self, trace: InstanceTrace) {
        self.capabilities.outbound_http.trace = Some(trace.clone());
        self.trace = Some(trace);
    }

    /// Gives the embedder's host functions `data` to work on, replacing what they had.
    pub fn set_host_data<D: Send + 'static>(&mut self, data: D) {
        match self.host_data_mut::<D>() {
            Some(held) => *held = data,
            None => self.host_data = Some(Box::new(data)),
        }
    }

    /// The data given with [`Self::set_host_data`], if it is a `D`.
    pub fn host_data_mut<D: 'static>(&mut self) -> Option<&mut D> {
        self.host_data.as_mut()?.downcast_mut()
    }

    /// Marks the component instantiated, for the trace of the event it serves: a trigger
    /// calls it between instantiating the component and calling its export.
    pub fn instantiated(&mut self) {
        if let Some(trace) = &mut self.trace {
            trace.instantiated();
        }
    }

    /// Marks the export's call done, for the trace of the event the instance serves.
    pub(crate) fn handled(&mut self) {
        if let Some(trace) = &mut self.trace {
            trace.handled();
        }
    }

    /// A store for this state, with the memory limit and epoch settings every kiln instance
    /// runs under.
    pub(crate) fn into_store(self, engine: &Engine) -> Store<Self> {
        let mut store = Store::new(engine, self);
        store.limiter(|state| &mut state.limiter);
        // Yield to the executor at every epoch tick: a busy guest cannot starve other requests.
        store.epoch_deadline_async_yield_and_update(1);
        store
    }
}

/// The WASI context a component's grants allow, and nothing more.
pub(crate) fn wasi_builder(grants: &Grants) -> anyhow::Result<WasiCtxBuilder> {
    let mut wasi = WasiCtxBuilder::new();
    wasi.envs(&grants.env);
    match &grants.stdio {
        GuestStdio::Closed => {}
        GuestStdio::Inherit => {
            wasi.inherit_stdout().inherit_stderr();
        }
        GuestStdio::Logged(logs) => {
            wasi.stdout(logs.stdout.clone()).stderr(logs.stderr.clone());
        }
    }
    for dir in &grants.dirs {
        let perms = if dir.read_only {
            FsPerms::ReadOnly
        } else {
            FsPerms::ReadWrite
        };
        wasi.preopened_dir(&dir.host, &dir.guest, perms)
            .map_err(|e| anyhow::anyhow!("opening directory {}: {e}", dir.host.display()))?;
    }
    // Outbound HTTP goes through `OutboundHttp`, which checks the same grants.
    match &grants.outbound {
        Outbound::AllowAll => {
            wasi.inherit_network()
                .allow_ip_name_lookup(true)
                .allow_tcp(true)
                .allow_udp(true);
        }
        Outbound::AllowList(hosts) => crate::network::sockets::grant(&mut wasi, hosts),
        Outbound::Denied => {
            wasi.socket_addr_check(|_, _| Box::pin(async { false }))
                .allow_ip_name_lookup(false)
                .allow_tcp(false)
                .allow_udp(false);
        }
    }
    Ok(wasi)
}

impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for StoreState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.capabilities.outbound_http,
        }
    }
}
