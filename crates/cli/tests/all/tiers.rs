//! Tiered compilation: a cold start serves Winch's code at once, Cranelift's optimized code is
//! swapped in while requests go on, and both forms stay in the compile cache.

use std::path::Path;
use std::time::{Duration, Instant};

use kiln_test_guests::HTTP_WORK;

use crate::util::{kiln, Server};

const OPTIMIZED: &str = "optimized code in use";

/// `kiln serve` of the work guest with an empty compile cache `cache`, compiled by `compiler`.
fn serve(cache: &Path, compiler: &str) -> Server {
    let mut command = kiln();
    command.env("KILN_CACHE_DIR", cache);
    Server::start_with(command, &["serve", "--compiler", compiler, HTTP_WORK])
}

/// The compiled forms in `cache`.
fn entries(cache: &Path) -> usize {
    std::fs::read_dir(cache)
        .map(|dir| {
            dir.filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
            })
            .count()
        })
        .unwrap_or(0)
}

/// The same answer as the native computation `bench/native` makes.
async fn assert_computes(server: &Server) {
    let response = server.get("/cpu?n=1000").await;
    assert_eq!(
        (response.status, response.body.as_str()),
        (200, "6248290529083013365")
    );
}

#[tokio::test]
async fn a_cold_start_serves_baseline_code_and_swaps_in_optimized_code_under_load() {
    let cache = tempfile::tempdir().unwrap();
    let server = serve(cache.path(), "tiered");
    // Every request succeeds, with the same answer, before, across and after the swap.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut served = 0;
    while !server.stderr().contains(OPTIMIZED) {
        assert!(
            Instant::now() < deadline,
            "never optimized: {}",
            server.stderr()
        );
        assert_computes(&server).await;
        served += 1;
    }
    assert!(served > 0, "optimized before the first request");
    for _ in 0..20 {
        assert_computes(&server).await;
    }
    assert_eq!(
        entries(cache.path()),
        2,
        "baseline and optimized code cached"
    );
    drop(server);

    // A second start takes the optimized code from the cache: nothing to swap.
    let server = serve(cache.path(), "tiered");
    assert_computes(&server).await;
    std::thread::sleep(Duration::from_millis(500));
    assert!(!server.stderr().contains(OPTIMIZED), "{}", server.stderr());
    assert_eq!(entries(cache.path()), 2);
}

#[tokio::test]
async fn one_compiler_compiles_once() {
    for compiler in ["cranelift", "winch"] {
        let cache = tempfile::tempdir().unwrap();
        let server = serve(cache.path(), compiler);
        assert_computes(&server).await;
        std::thread::sleep(Duration::from_millis(500));
        assert!(!server.stderr().contains(OPTIMIZED), "{}", server.stderr());
        assert_eq!(entries(cache.path()), 1, "{compiler}");
    }
}

#[test]
fn an_unknown_compiler_is_refused_with_the_choices() {
    let output = kiln()
        .args(["serve", "--compiler", "llvm", HTTP_WORK])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("[possible values: tiered, cranelift, winch]"),
        "{stderr}"
    );
}
