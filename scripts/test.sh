#!/usr/bin/env bash
# Runs kiln's whole test suite on a fresh machine: installs the wasm32-wasip2 target when it is
# missing (the test components in guests/ are built for it), then checks formatting and lints
# and runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    echo "installing the wasm32-wasip2 target (rustup target add wasm32-wasip2)"
    rustup target add wasm32-wasip2
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# nextest prints one summary for the whole run; plain cargo test is the fallback.
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --locked --no-fail-fast
else
    cargo test --workspace --locked
fi
