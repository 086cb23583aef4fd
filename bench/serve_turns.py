"""Serving by kiln builds side by side: `kiln serve` of one guest by each binary in turns,
ROUNDS times, each loaded by wrk at CONNS connections for SECONDS seconds (after a warm-up,
once its optimized code is in use); prints each binary's median requests/s and p50 latency.
Turns make a change's effect visible on a machine whose speed drifts between runs.
Usage: serve_turns.py WASM PATH CONNS SECONDS ROUNDS KILN [KILN ...]."""

import re
import statistics
import subprocess
import sys
import tempfile
import time

from apps import start_until_answered

wasm, path = sys.argv[1], sys.argv[2]
conns, seconds, rounds = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
kilns = sys.argv[6:]
PORT = 8332
URL = f"http://127.0.0.1:{PORT}{path}"


def wrk(duration):
    """wrk's requests/s and p50 in ms for `duration` seconds at `conns` connections."""
    threads = min(conns, 2)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--latency", URL],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"\s50%\s+([\d.]+)(us|ms|s)", out).groups()
    return rps, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def measure(kiln, cache):
    """Starts `kiln serve`, warms it up, and returns wrk's requests/s and p50 in ms."""
    proc, _ = start_until_answered(
        [kiln, "serve", "--listen", f"127.0.0.1:{PORT}", "--max-concurrent", "1000", wasm],
        PORT, path, cache)
    try:
        # The optimized code is swapped in within a second of the first answer.
        time.sleep(1.5)
        wrk(2)
        return wrk(seconds)
    finally:
        proc.terminate()
        proc.wait()


results = {kiln: [] for kiln in kilns}
with tempfile.TemporaryDirectory() as cache:
    for _ in range(rounds):
        for kiln in kilns:
            results[kiln].append(measure(kiln, cache))
for kiln, runs in results.items():
    rps = statistics.median(r for r, _ in runs)
    p50 = statistics.median(p for _, p in runs)
    print(f"{kiln}: median {rps:.0f} req/s, p50 {p50:.3f} ms "
          f"(req/s: {', '.join(f'{r:.0f}' for r, _ in runs)})")
