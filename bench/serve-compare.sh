#!/usr/bin/env bash
# Puts `kiln serve` beside `wasmtime serve` (48) on the hello guest, in one run on this machine:
#   1. requests/s and latency at 64 connections (wrk, 127.0.0.1), kiln then wasmtime;
#   2. `kiln up` process start to first 200, with a warm compile cache.
# Usage: bench/serve-compare.sh [SECONDS_PER_RUN]   (default 10)
# Needs wrk and curl; installs wasmtime-cli 48 with cargo when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10}"
CONNECTIONS=64

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
if ! wasmtime --version 2>/dev/null | grep -q '^wasmtime 48\.'; then
    cargo install wasmtime-cli --version '^48' --locked
fi
cargo build --release -p kiln -p kiln-test-guests >/dev/null
KILN="$PWD/target/release/kiln"
HELLO="$PWD/target/guests/wasm32-wasip2/release/http_hello.wasm"
export KILN_CACHE_DIR="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$KILN_CACHE_DIR"' EXIT

wait_for() { # URL: poll until it answers 200
    for _ in $(seq 1 2000); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = 200 ] && return 0
        sleep 0.005
    done
    echo "no answer from $1" >&2; return 1
}

rps() { # NAME URL: warm up, then one wrk run; prints "NAME RPS P50 P99"
    wrk -t2 -c"$CONNECTIONS" -d2s "$2" >/dev/null
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$2" | awk -v name="$1" '
        /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 } /^Requests\/sec/ { rps = $2 }
        END { printf "%-22s %10.0f %10s %10s\n", name, rps, p50, p99 }'
}

printf "%-22s %10s %10s %10s\n" "server (64 conns)" "req/s" "p50" "p99"
"$KILN" serve --listen 127.0.0.1:8301 "$HELLO" >/dev/null 2>&1 &
KILN_PID=$!
wait_for http://127.0.0.1:8301/
KILN_LINE=$(rps "kiln serve" http://127.0.0.1:8301/)
echo "$KILN_LINE"
kill "$KILN_PID"; wait "$KILN_PID" 2>/dev/null || true

wasmtime serve -S cli=y --addr 127.0.0.1:8302 "$HELLO" >/dev/null 2>&1 &
WASMTIME_PID=$!
wait_for http://127.0.0.1:8302/
WASMTIME_LINE=$(rps "wasmtime serve" http://127.0.0.1:8302/)
echo "$WASMTIME_LINE"
kill "$WASMTIME_PID"; wait "$WASMTIME_PID" 2>/dev/null || true

echo "$KILN_LINE $WASMTIME_LINE" | awk '{ printf "kiln / wasmtime serve: %.2fx\n", $3 / $8 }'

# Start-up: a one-component app, cache warmed by a first start; five timed starts.
APP="$(mktemp -d)"
cat > "$APP/spin.toml" <<TOML
spin_manifest_version = 2
[application]
name = "startup"
[[trigger.http]]
route = "/..."
component = "hello"
[component.hello]
source = "$HELLO"
TOML
python3 - "$KILN" "$APP" <<'PY'
# Five timed starts after a first one that fills the compile cache; polls every millisecond.
import http.client, statistics, subprocess, sys, time
kiln, app = sys.argv[1], sys.argv[2]
def start_to_200():
    begin = time.perf_counter()
    proc = subprocess.Popen([kiln, "up", "-f", app, "--listen", "127.0.0.1:8303"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", 8303, timeout=1)
                conn.request("GET", "/")
                if conn.getresponse().status == 200:
                    return (time.perf_counter() - begin) * 1000
            except OSError:
                time.sleep(0.001)
    finally:
        proc.terminate()
        proc.wait()
start_to_200()
times = sorted(start_to_200() for _ in range(5))
print("kiln up, start to first 200 (warm cache): median %.1f ms (runs: %s)"
      % (statistics.median(times), ", ".join("%.1f" % t for t in times)))
PY
rm -rf "$APP"
