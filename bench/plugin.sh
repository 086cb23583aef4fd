#!/usr/bin/env bash
# Per-call cost of a plugin in kiln-plugin, beside a plain wasmtime embedding and Extism's Rust
# host SDK calling the same function (`upper` of a 43-byte string), in one run: a fresh
# instance per call, and a kept one. Prints microseconds per call and each ratio to kiln.
#
#   bench/plugin.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target list --installed | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1
extism_target=target/bench-extism
cargo build -q --release --target wasm32-wasip1 --target-dir "$extism_target" \
  --manifest-path bench/plugin-extism/plugin/Cargo.toml
cargo build -q --release --target-dir "$extism_target" \
  --manifest-path bench/plugin-extism/host/Cargo.toml
{
  cargo bench -q -p kiln-plugin --bench calls
  "$extism_target/release/extism-calls" "$extism_target/wasm32-wasip1/release/extism_upper.wasm"
} | python3 -c '
import sys
rows = {}
for line in sys.stdin:
    name, _, rest = line.partition(": ")
    if rest.endswith("us/call\n"):
        rows[name] = float(rest.split()[0])
print("%-24s %8s  %s" % ("", "us/call", "time vs kiln-plugin"))
for name, micros in rows.items():
    mode = "kept" if name.endswith("kept") else "fresh"
    kiln = rows[f"kiln-plugin {mode}"]
    print("%-24s %8.2f  %18.2fx" % (name, micros, micros / kiln))
'
