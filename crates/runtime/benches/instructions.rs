//! Per-request cost of an HTTP component in instructions, for `bench/instructions.sh` to run
//! under callgrind: loads the hello guest (pooling allocator, as kiln serves), then handles
//! the number of requests given as the first argument, each on a fresh instance, on one
//! thread. Instructions, unlike time, repeat exactly from run to run, so a change of a few
//! hundred nanoseconds per request shows; the script runs two counts and divides the
//! difference, which leaves out the set-up.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use kiln_runtime::{Compiler, ComponentLimits, Grants, HttpComponent, Runtime, RuntimeOptions};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // `cargo bench` runs every bench binary with `--bench`: nothing to count then.
    let Some(requests) = std::env::args().nth(1).and_then(|n| n.parse::<u32>().ok()) else {
        return;
    };
    // The compile cache (`KILN_CACHE_DIR`), which the script fills first: every counted run
    // then loads the guest alike, and compiling under callgrind would take minutes.
    let runtime = Runtime::new(&RuntimeOptions {
        // The code a component runs for good, from the first request.
        compiler: Compiler::Cranelift,
        ..RuntimeOptions::default()
    })
    .expect("building the runtime");
    let component = HttpComponent::load(
        &runtime,
        "hello",
        kiln_test_guests::HTTP_HELLO.as_ref(),
        Grants::default(),
        ComponentLimits::default(),
    )
    .expect("loading the hello guest");
    let route: Arc<str> = Arc::from("/...");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    rt.block_on(async {
        for _ in 0..requests {
            let request = http::Request::get("http://localhost/")
                .body(Empty::<Bytes>::new())
                .expect("a valid request");
            let response = component.handle(request, &route).await;
            assert_eq!(response.status(), 200, "the guest answers");
            let body = response.into_body().collect().await.expect("a body");
            assert_eq!(body.to_bytes(), "Hello, kiln!\n");
        }
    });
}
