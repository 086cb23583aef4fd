//! Per-request cost of an HTTP component, in process: a fresh instance of the hello guest,
//! one request handled, its body read, the instance dropped. kiln with the pooling allocator
//! and without, beside a plain wasmtime embedding doing the same (WASI and wasi:http only,
//! pooling tuned as for `wasmtime serve -O pooling-allocator=y,...`), so kiln's own overhead
//! shows. Besides criterion's estimate, prints p50 and p99 of single iterations.
//! Run: `cargo bench --workspace --bench instantiate`.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use http_body_util::{BodyExt, Empty};
use kiln_runtime::{Compiler, ComponentLimits, Grants, HttpComponent, Runtime, RuntimeOptions};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

// The allocator of the kiln binary, for both embeddings.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn kiln_hello(pooling: bool) -> HttpComponent {
    let options = RuntimeOptions {
        cache_dir: None,
        pooling,
        // The code a component runs for good, from the first request.
        compiler: Compiler::Cranelift,
        ..RuntimeOptions::default()
    };
    let runtime = Runtime::new(&options).expect("building the runtime");
    HttpComponent::load(
        &runtime,
        "hello",
        kiln_test_guests::HTTP_HELLO.as_ref(),
        Grants::default(),
        ComponentLimits::default(),
    )
    .expect("loading the hello guest")
}

fn request() -> http::Request<Empty<Bytes>> {
    http::Request::get("http://localhost/")
        .body(Empty::<Bytes>::new())
        .expect("a valid request")
}

/// One request through kiln's `component`, body read to the end.
async fn kiln_request(component: &HttpComponent, route: &Arc<str>) {
    let response = component.handle(request(), route).await;
    assert_eq!(response.status(), 200, "the guest answers");
    let body = response.into_body().collect().await.expect("a body");
    assert_eq!(body.to_bytes(), "Hello, kiln!\n");
}

/// The plain embedding's store data: WASI and wasi:http, nothing else.
struct Plain {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
}

impl WasiView for Plain {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for Plain {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: wasmtime_wasi_http::default_hooks(),
        }
    }
}

fn plain_hello() -> (Engine, ProxyPre<Plain>) {
    let mut pool = PoolingAllocationConfig::new();
    pool.linear_memory_keep_resident(2 << 20);
    pool.table_keep_resident(64 << 10);
    pool.async_stack_keep_resident(1 << 20);
    let mut config = Config::new();
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    let engine = Engine::new(&config).expect("an engine");
    let component =
        Component::from_file(&engine, kiln_test_guests::HTTP_HELLO).expect("the hello guest");
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).expect("linking WASI");
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).expect("linking HTTP");
    let pre =
        ProxyPre::new(linker.instantiate_pre(&component).expect("pre-linked")).expect("a proxy");
    (engine, pre)
}

/// One request through the plain embedding, as `wasmtime serve` handles it.
async fn plain_request(engine: &Engine, pre: &ProxyPre<Plain>) {
    let data = Plain {
        table: ResourceTable::new(),
        wasi: WasiCtx::builder().build(),
        http: WasiHttpCtx::new(),
    };
    let mut store = Store::new(engine, data);
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let request = request().map(|body| {
        body.map_err(|never| -> wasmtime_wasi_http::Error { match never {} })
            .boxed_unsync()
    });
    let request = store
        .data_mut()
        .http()
        .new_incoming_request(Scheme::Http, request)
        .expect("a request");
    let outparam = store
        .data_mut()
        .http()
        .new_response_outparam(sender)
        .expect("an outparam");
    let pre = pre.clone();
    let task = tokio::task::spawn(async move {
        let proxy = pre.instantiate_async(&mut store).await?;
        proxy
            .wasi_http_incoming_handler()
            .call_handle(&mut store, request, outparam)
            .await
    });
    let response = receiver.await.expect("a response").expect("not an error");
    let body = response.into_body().collect().await.expect("a body");
    assert_eq!(body.to_bytes(), "Hello, kiln!\n");
    task.await
        .expect("the task ran")
        .expect("the guest returned");
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Benchmarks `one` as `name`, then prints p50 and p99 of its single iterations.
fn measure<F: Future<Output = ()>>(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    name: &str,
    mut one: impl FnMut() -> F,
) {
    let mut samples = Vec::new();
    c.bench_function(name, |b| {
        b.iter_custom(|iterations| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let start = Instant::now();
                    one().await;
                    let took = start.elapsed();
                    samples.push(took);
                    total += took;
                }
                total
            })
        })
    });
    if samples.is_empty() {
        return; // filtered out on the command line
    }
    samples.sort();
    println!(
        "{name}: p50 {:.1} µs, p99 {:.1} µs over {} requests",
        percentile(&samples, 0.5).as_secs_f64() * 1e6,
        percentile(&samples, 0.99).as_secs_f64() * 1e6,
        samples.len()
    );
}

fn instantiate_handle_drop(c: &mut Criterion) {
    // As the kiln binary does: wasmtime makes an error as each store is dropped, which would
    // capture a stack trace when RUST_BACKTRACE is set.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    // One thread: the instance's task runs where the request waits, as on a server's worker.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let route: Arc<str> = "/...".into();
    for (name, pooling) in [("pooling", true), ("on-demand", false)] {
        let component = kiln_hello(pooling);
        measure(c, &rt, &format!("hello/kiln/{name}"), || {
            kiln_request(&component, &route)
        });
    }
    let (engine, pre) = plain_hello();
    measure(c, &rt, "hello/plain-wasmtime/pooling", || {
        plain_request(&engine, &pre)
    });
}

criterion_group!(benches, instantiate_handle_drop);
criterion_main!(benches);
