"""Prints bench/run's throughput results as a Markdown table: the median of each cell's runs,
and kiln's ratios to wasmtime serve (default, tuned, and tuned with a timeout as kiln always
has one) and to the native server.
Input lines: SERVER WORKLOAD CONNECTIONS RPS P50 P99 NON_2XX."""

import statistics
import sys
from collections import defaultdict

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def millis(text):
    for unit in ("us", "ms", "s"):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * UNITS[unit]
    return float("nan")


cells = defaultdict(list)
errors = defaultdict(int)
for line in open(sys.argv[1]):
    server, workload, connections, rps, p50, p99, bad = line.split()
    key = (workload, int(connections), server)
    cells[key].append((float(rps), millis(p50), millis(p99)))
    errors[key] += int(bad)


def median(key, index):
    values = [run[index] for run in cells.get(key, [])]
    return statistics.median(values) if values else float("nan")


servers = ["kiln", "wasmtime", "wasmtime-tuned", "wasmtime-tuned-timeout", "native"]
print("| workload | conns | kiln req/s | wasmtime | wasmtime tuned | tuned + timeout | native "
      "| kiln/wasmtime | kiln/tuned | kiln/tuned+timeout | kiln/native | kiln p50 / p99 ms |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for workload, connections in sorted({(w, c) for w, c, _ in cells}, key=lambda k: (["hello", "cpu", "touch-1MiB"].index(k[0]), k[1])):
    rps = {s: median((workload, connections, s), 0) for s in servers}
    kiln = rps["kiln"]
    p50, p99 = median((workload, connections, "kiln"), 1), median((workload, connections, "kiln"), 2)
    print(
        f"| {workload} | {connections} | {kiln:.0f} | {rps['wasmtime']:.0f} | {rps['wasmtime-tuned']:.0f} "
        f"| {rps['wasmtime-tuned-timeout']:.0f} | {rps['native']:.0f} "
        f"| {kiln / rps['wasmtime']:.2f}x | {kiln / rps['wasmtime-tuned']:.2f}x "
        f"| {kiln / rps['wasmtime-tuned-timeout']:.2f}x | {kiln / rps['native']:.2f}x | {p50:.2f} / {p99:.2f} |"
    )
bad = {k: v for k, v in errors.items() if v}
if bad:
    print("non-2xx answers:", ", ".join(f"{s} {w} c{c}: {n}" for (w, c, s), n in sorted(bad.items())))
