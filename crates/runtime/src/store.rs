//! [`StoreState`]: the `T` of every `Store<T>` kiln creates, holding one instance's capability
//! state. Built from a component's [`Grants`] with no I/O beyond opening granted directories.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::capabilities::key_value::KeyValueInstance;
use crate::capabilities::mqtt::MqttInstance;
use crate::capabilities::mysql::MysqlInstance;
use crate::capabilities::outbound::http::OutboundHttp;
use crate::capabilities::postgres::PgInstance;
use crate::capabilities::redis::RedisInstance;
use crate::capabilities::sqlite::SqliteInstance;
use crate::capabilities::variables::VariablesInstance;
use crate::capabilities::Unconfigured;
use crate::grants::{Grants, GuestStdio, Outbound};
use crate::limits::{ComponentLimits, InstanceLimiter};
use crate::metrics::{ComponentMetrics, InstanceAlive};

/// Per-instance state: one field per capability, and the resource table WASI and HTTP share.
pub struct StoreState {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    outbound_http: OutboundHttp,
    pub(crate) key_value: KeyValueInstance,
    pub(crate) sqlite: SqliteInstance,
    pub(crate) variables: VariablesInstance,
    pub(crate) redis: RedisInstance,
    pub(crate) mqtt: MqttInstance,
    pub(crate) postgres: PgInstance,
    pub(crate) mysql: MysqlInstance,
    pub(crate) unconfigured: Unconfigured,
    limiter: InstanceLimiter,
    _alive: InstanceAlive,
}

impl StoreState {
    /// State for one instance of a component with `grants`, whose WASI context is `wasi`
    /// (built by [`wasi_builder`] from the same grants), held to `limits`.
    pub(crate) fn new(
        component_id: &Arc<str>,
        grants: &Arc<Grants>,
        wasi: WasiCtx,
        limits: &ComponentLimits,
        metrics: &ComponentMetrics,
    ) -> Self {
        Self {
            table: ResourceTable::new(),
            wasi,
            http: WasiHttpCtx::new(),
            outbound_http: OutboundHttp::new(component_id.clone(), grants.clone()),
            key_value: KeyValueInstance::new(component_id.clone(), grants.key_value.clone()),
            sqlite: SqliteInstance::new(component_id.clone(), grants.sqlite.clone()),
            variables: VariablesInstance::new(grants.variables.clone()),
            redis: RedisInstance::new(component_id.clone(), grants.clone()),
            mqtt: MqttInstance::new(component_id.clone(), grants.clone()),
            postgres: PgInstance::new(component_id.clone(), grants.clone()),
            mysql: MysqlInstance::new(component_id.clone(), grants.clone()),
            unconfigured: Unconfigured,
            limiter: InstanceLimiter::new(limits),
            _alive: metrics.instance_alive(),
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
    if grants.outbound == Outbound::AllowAll {
        wasi.inherit_network()
            .allow_ip_name_lookup(true)
            .allow_tcp(true)
            .allow_udp(true);
    } else {
        // Sockets reach nothing; outbound HTTP goes through `OutboundHttp`, which checks grants.
        wasi.socket_addr_check(|_, _| Box::pin(async { false }))
            .allow_ip_name_lookup(false)
            .allow_tcp(false)
            .allow_udp(false);
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
            hooks: &mut self.outbound_http,
        }
    }
}
