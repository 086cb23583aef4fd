//! Per-request cost of an HTTP component, in process: a fresh instance of the hello guest,
//! one request handled, its body read, the instance dropped; with the pooling allocator and
//! without. Besides criterion's estimate, prints p50 and p99 of single iterations.
//! Run: `cargo bench -p kiln-runtime --bench instantiate`.

use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use http_body_util::{BodyExt, Empty};
use kiln_runtime::{ComponentLimits, Grants, HttpComponent, Runtime, RuntimeOptions};

fn hello(pooling: bool) -> HttpComponent {
    let options = RuntimeOptions {
        cache_dir: None,
        pooling,
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

/// One request through `component`, body read to the end.
async fn one_request(component: &HttpComponent) {
    let request = http::Request::get("http://localhost/")
        .body(Empty::<Bytes>::new())
        .expect("a valid request");
    let response = component
        .handle::<_>(request, "/...")
        .await
        .expect("the guest answers");
    let body = response.into_body().collect().await.expect("a body");
    assert_eq!(body.to_bytes(), "Hello, kiln!\n");
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn instantiate_handle_drop(c: &mut Criterion) {
    // One thread: the instance's task runs where the request waits, as on a server's worker.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    for (name, pooling) in [("pooling", true), ("on-demand", false)] {
        let component = hello(pooling);
        let mut samples = Vec::new();
        c.bench_function(&format!("hello/{name}"), |b| {
            b.iter_custom(|iterations| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iterations {
                        let start = Instant::now();
                        one_request(&component).await;
                        let took = start.elapsed();
                        samples.push(took);
                        total += took;
                    }
                    total
                })
            })
        });
        samples.sort();
        println!(
            "hello/{name}: p50 {:.1} µs, p99 {:.1} µs over {} requests",
            percentile(&samples, 0.5).as_secs_f64() * 1e6,
            percentile(&samples, 0.99).as_secs_f64() * 1e6,
            samples.len()
        );
    }
}

criterion_group!(benches, instantiate_handle_drop);
criterion_main!(benches);
