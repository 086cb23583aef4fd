//! Cost of one plugin call, kiln-plugin beside a plain wasmtime embedding doing the same: the
//! `plugin_upper` guest's `upper` on a short string, in a fresh instance per call and in a kept
//! one. One thread; prints the median of several rounds, in microseconds per call.
//! `bench/plugin.sh` runs it beside Extism and prints the ratios.

use std::time::Instant;

use kiln_plugin::{PluginConfig, PluginHost, Reuse, TypedPlugin};
use wasmtime::component::{Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

wasmtime::component::bindgen!({
    path: "../../guests/plugin_probe/wit",
    world: "upper",
    exports: { default: async },
});

kiln_plugin::bindings!(Upper, UpperIndices);

const INPUT: &str = "the quick brown fox jumps over the lazy dog";
const ROUNDS: usize = 7;
const CALLS: usize = 4000;

/// Median microseconds per call of `call`, over [`ROUNDS`] rounds of [`CALLS`] calls.
async fn measure(mut call: impl AsyncFnMut()) -> f64 {
    for _ in 0..CALLS / 4 {
        call().await;
    }
    let mut rounds = Vec::new();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..CALLS {
            call().await;
        }
        rounds.push(start.elapsed().as_secs_f64() * 1e6 / CALLS as f64);
    }
    rounds.sort_by(f64::total_cmp);
    rounds[ROUNDS / 2]
}

fn kiln_plugin(host: &PluginHost, reuse: Reuse) -> TypedPlugin<Upper> {
    let config = PluginConfig::new().reuse(reuse);
    let plugin = host.load_file(kiln_test_guests::PLUGIN_UPPER, config);
    plugin.unwrap().typed().unwrap()
}

async fn kiln_call(plugin: &TypedPlugin<Upper>) {
    let out = plugin
        .call((), async |upper, store| {
            upper.call_upper(store, INPUT).await
        })
        .await
        .unwrap();
    assert_eq!(out.len(), INPUT.len());
}

/// What a plain embedding keeps per instance: WASI.
struct Plain {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Plain {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

fn plain_store(engine: &Engine) -> Store<Plain> {
    let plain = Plain {
        wasi: WasiCtx::builder().build(),
        table: ResourceTable::new(),
    };
    Store::new(engine, plain)
}

/// A plain wasmtime embedding of the plugin: `pooling` or wasmtime's default allocator.
fn plain_pre(pooling: bool) -> (Engine, UpperPre<Plain>) {
    let mut config = Config::new();
    if pooling {
        config.allocation_strategy(InstanceAllocationStrategy::pooling());
    }
    let engine = Engine::new(&config).unwrap();
    let path = kiln_test_guests::PLUGIN_UPPER;
    let component = wasmtime::component::Component::from_file(&engine, path).unwrap();
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
    let pre = UpperPre::new(linker.instantiate_pre(&component).unwrap()).unwrap();
    (engine, pre)
}

async fn plain_fresh(pooling: bool) -> f64 {
    let (engine, pre) = plain_pre(pooling);
    measure(async || {
        let mut store = plain_store(&engine);
        let upper = pre.instantiate_async(&mut store).await.unwrap();
        let out = upper.call_upper(&mut store, INPUT).await.unwrap();
        assert_eq!(out.len(), INPUT.len());
    })
    .await
}

async fn plain_kept() -> f64 {
    let (engine, pre) = plain_pre(false);
    let mut store = plain_store(&engine);
    let upper = pre.instantiate_async(&mut store).await.unwrap();
    measure(async || {
        let out = upper.call_upper(&mut store, INPUT).await.unwrap();
        assert_eq!(out.len(), INPUT.len());
    })
    .await
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let host = PluginHost::new().unwrap();
        let fresh = kiln_plugin(&host, Reuse::Fresh);
        let kept = kiln_plugin(&host, Reuse::Kept);
        let rows = [
            (
                "kiln-plugin fresh",
                measure(async || kiln_call(&fresh).await).await,
            ),
            (
                "kiln-plugin kept",
                measure(async || kiln_call(&kept).await).await,
            ),
            ("wasmtime fresh", plain_fresh(false).await),
            ("wasmtime fresh pooling", plain_fresh(true).await),
            ("wasmtime kept", plain_kept().await),
        ];
        for (name, micros) in rows {
            println!("{name}: {micros:.2} us/call");
        }
    });
}
