//! Cost of one Extism call of `upper` (bench/plugin-extism/plugin), as
//! crates/plugin/benches/calls.rs measures kiln-plugin: a fresh plugin instance per call (from
//! the compiled plugin) and a kept one. Prints the median of several rounds in microseconds.

use std::time::Instant;

use extism::{CompiledPlugin, Manifest, Plugin, PluginBuilder, Wasm};

const INPUT: &str = "the quick brown fox jumps over the lazy dog";
const ROUNDS: usize = 7;
const CALLS: usize = 4000;

fn measure(mut call: impl FnMut()) -> f64 {
    for _ in 0..CALLS / 4 {
        call();
    }
    let mut rounds = Vec::new();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..CALLS {
            call();
        }
        rounds.push(start.elapsed().as_secs_f64() * 1e6 / CALLS as f64);
    }
    rounds.sort_by(f64::total_cmp);
    rounds[ROUNDS / 2]
}

fn upper(plugin: &mut Plugin) {
    let out: String = plugin.call("upper", INPUT).unwrap();
    assert_eq!(out.len(), INPUT.len());
}

fn main() {
    let wasm = std::env::args().nth(1).expect("usage: extism-calls PLUGIN.wasm");
    let bytes = std::fs::read(&wasm).expect("reading the plugin");
    let manifest = Manifest::new([Wasm::data(bytes)]);
    let compiled = CompiledPlugin::new(PluginBuilder::new(manifest.clone()).with_wasi(true)).unwrap();
    let fresh = measure(|| {
        let mut plugin = Plugin::new_from_compiled(&compiled).unwrap();
        upper(&mut plugin);
    });
    let mut kept = Plugin::new(&manifest, [], true).unwrap();
    let kept = measure(|| upper(&mut kept));
    println!("extism fresh: {fresh:.2} us/call");
    println!("extism kept: {kept:.2} us/call");
}
