#!/usr/bin/env bash
# Soak: one `kiln up` serves a healthy component and a faulty one while wrk drives REQUESTS
# requests (default 1,000,000) at the healthy routes and, at the same time, a stream of faults
# (traps, panics, stack overflows, memory exhaustion, endless loops, endless bodies) at the
# faulty one. Prints, every chunk, the requests so far and kiln's RSS; at the end, the healthy
# requests' errors (must be 0) and the RSS drift. Exits 1 if a healthy request failed.
# Usage: bench/soak.sh [REQUESTS]
set -euo pipefail
cd "$(dirname "$0")/.."
TOTAL="${1:-1000000}"
CHUNK_SECONDS=20

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
cargo build --release -p kiln -p kiln-test-guests >/dev/null
KILN="$PWD/target/release/kiln"
GUESTS="$PWD/target/guests/wasm32-wasip2/release"
WORK="$(mktemp -d)"
export KILN_CACHE_DIR="$WORK/cache"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

cat > "$WORK/spin.toml" <<TOML
spin_manifest_version = 2
[application]
name = "soak"
[[trigger.http]]
route = "/hello"
component = "hello"
[[trigger.http]]
route = "/..."
component = "faults"
[component.hello]
source = "$GUESTS/http_hello.wasm"
[component.faults]
source = "$GUESTS/http_faults.wasm"
[component.faults.tool.kiln.limits]
timeout = "200ms"
max_memory = "32 MiB"
max_response_body = "1 MiB"
TOML
cat > "$WORK/healthy.lua" <<'LUA'
local paths = { "/hello", "/ok" }
local i = 0
request = function()
    i = i % #paths + 1
    return wrk.format("GET", paths[i])
end
LUA
cat > "$WORK/faulty.lua" <<'LUA'
local paths = { "/trap", "/panic", "/stack", "/divide", "/memory", "/huge-body", "/loop" }
local i = 0
request = function()
    i = i % #paths + 1
    return wrk.format("GET", paths[i])
end
LUA

"$KILN" up -f "$WORK" --listen 127.0.0.1:8401 >"$WORK/kiln.out" 2>"$WORK/kiln.err" &
KILN_PID=$!
for _ in $(seq 1 2000); do
    curl -sf -o /dev/null http://127.0.0.1:8401/hello && break
    sleep 0.01
done
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$KILN_PID/status"; }

# wrk's summary: requests, non-2xx responses, socket errors.
summary() {
    awk '/requests in/ { n = $1 } /Non-2xx/ { bad = $5 }
         /Socket errors/ { gsub(",", ""); err = $4 + $6 + $8 + $10 }
         END { printf "%d %d %d\n", n, bad + 0, err + 0 }' "$1"
}

START_RSS=$(rss_kib)
done_requests=0 healthy_bad=0 healthy_err=0 faulty=0 chunk=0
printf "%8s %12s %12s %10s\n" "chunk" "healthy" "faulty" "RSS MiB"
while [ "$done_requests" -lt "$TOTAL" ]; do
    chunk=$((chunk + 1))
    wrk -t1 -c4 -d"${CHUNK_SECONDS}s" -s "$WORK/faulty.lua" http://127.0.0.1:8401 >"$WORK/faulty.txt" &
    FAULTY_PID=$!
    wrk -t1 -c32 -d"${CHUNK_SECONDS}s" -s "$WORK/healthy.lua" http://127.0.0.1:8401 >"$WORK/healthy.txt"
    wait "$FAULTY_PID"
    read -r n bad err < <(summary "$WORK/healthy.txt")
    read -r fn _ _ < <(summary "$WORK/faulty.txt")
    done_requests=$((done_requests + n + fn))
    healthy_bad=$((healthy_bad + bad)); healthy_err=$((healthy_err + err)); faulty=$((faulty + fn))
    [ "$chunk" = 1 ] && WARM_RSS=$(rss_kib)
    printf "%8d %12d %12d %10.1f\n" "$chunk" "$((done_requests - faulty))" "$faulty" "$(echo "$(rss_kib) / 1024" | bc -l)"
done
END_RSS=$(rss_kib)
echo
echo "requests: $done_requests ($((done_requests - faulty)) healthy, $faulty faulty)"
echo "healthy requests answered other than 2xx: $healthy_bad; socket errors on healthy connections: $healthy_err"
echo "kiln RSS: start $((START_RSS / 1024)) MiB, after the first chunk $((WARM_RSS / 1024)) MiB, end $((END_RSS / 1024)) MiB"
echo "failures logged by reason:"
grep -o 'reason=[a-z_]*' "$WORK/kiln.err" | sort | uniq -c | sed 's/^/  /'
[ "$healthy_bad" -eq 0 ] && [ "$healthy_err" -eq 0 ]
