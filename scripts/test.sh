#!/usr/bin/env bash
# Runs kiln's whole test suite on a fresh machine: installs the wasm32-wasip2 and wasm32-wasip1
# targets when they are missing and componentize-py with Spin's Python SDK (the test components
# in guests/ are built with them), starts the servers the tests talk to when they are not
# running (scripts/services.sh), then checks formatting, lints and that no crate's modules
# import each other in a circle (scripts/import-cycles.py), runs every test of the
# workspace, and fuzzes the manifest parsers briefly (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

for target in wasm32-wasip2 wasm32-wasip1; do
    if ! rustup target list --installed | grep -qx "$target"; then
        echo "installing the $target target (rustup target add $target)"
        rustup target add "$target"
    fi
done

./scripts/python-venv.sh
./scripts/services.sh

cargo fmt --all -- --check
python3 scripts/import-cycles.py
cargo clippy --workspace --all-targets --locked -- -D warnings
# nextest prints one summary for the whole run; plain cargo test is the fallback.
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --locked --no-fail-fast
    # nextest does not run documentation examples.
    cargo test --doc --workspace --locked
else
    cargo test --workspace --locked
fi
./scripts/fuzz.sh "${KILN_FUZZ_SECONDS:-20}"

