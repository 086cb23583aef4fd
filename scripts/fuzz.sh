#!/usr/bin/env bash
# Fuzzes the parsers of files kiln reads from users (the manifest and the runtime config) with
# cargo fuzz on the nightly toolchain, SECONDS per target (default 60), seeded with the
# manifest UI test cases. Installs cargo-fuzz when it is missing. A crash fails the script and
# leaves the input in fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
if ! rustup toolchain list | grep -q '^nightly'; then
    echo "the nightly toolchain is needed to fuzz (rustup toolchain install nightly)" >&2
    exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz (cargo install cargo-fuzz --locked)"
    cargo install cargo-fuzz --locked --quiet
fi

ui=crates/manifest/tests/ui
for target in manifest runtime_config; do
    mkdir -p "fuzz/corpus/$target"
    case $target in
        manifest) seeds=("$ui/valid" "$ui/invalid") ;;
        runtime_config) seeds=("$ui/runtime-config/valid" "$ui/runtime-config/invalid") ;;
    esac
    echo "fuzzing $target for ${seconds}s"
    cargo +nightly fuzz run "$target" "fuzz/corpus/$target" "${seeds[@]}" -- \
        -max_total_time="$seconds" -max_len=8192 -print_final_stats=1 2>&1 | tail -n 12
done
