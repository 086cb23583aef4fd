#!/usr/bin/env bash
# Instructions per request of an HTTP component in process (instantiate + handle + drop of the
# hello guest, pooling allocator), counted by callgrind on the thread that serves: the bench
# (crates/runtime/benches/instructions.rs) runs LOW and HIGH requests, and the difference over
# HIGH - LOW leaves the set-up out. Repeats exactly for the same binary, whatever else the
# machine does. Usage: bench/instructions.sh [LOW] [HIGH]  (defaults: 100 and 1100); needs
# valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
LOW="${1:-100}"
HIGH="${2:-1100}"
command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install valgrind" >&2; exit 1; }
BIN=$(cargo bench --workspace --bench instructions --no-run --message-format=json 2>/dev/null \
    | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "instructions" and m.get("executable"):
        print(m["executable"])')
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# Compiled once, natively: both counted runs load the guest from this cache the same way.
export KILN_CACHE_DIR="$WORK/cache"
"$BIN" 1
count() { # REQUESTS: instructions of the main thread
    valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$WORK/cg.$1" "$BIN" "$1" >/dev/null 2>&1
    awk '/^summary:/ { print $2 }' "$WORK/cg.$1-01"
}
low=$(count "$LOW")
high=$(count "$HIGH")
python3 -c "print(f'instructions per request: {($high - $low) / ($HIGH - $LOW):,.0f} ({$HIGH - $LOW} requests; set-up excluded)')"
