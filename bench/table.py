"""Prints bench/run's throughput results as a Markdown table: the median of each cell's runs,
kiln's ratios to wasmtime serve (default, tuned, and tuned with a timeout as kiln always has
one) and to the native server, and the latencies of kiln and of tuned wasmtime serve.
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


# (server, column heading, ratio heading) of everything kiln is compared with.
OTHERS = [
    ("wasmtime", "wasmtime", "kiln/wasmtime"),
    ("wasmtime-tuned", "wasmtime tuned", "kiln/tuned"),
    ("wasmtime-tuned-timeout", "tuned + timeout", "kiln/tuned+timeout"),
    ("native", "native", "kiln/native"),
]
headings = ["workload", "conns", "kiln req/s", *(h for _, h, _ in OTHERS),
            *(r for _, _, r in OTHERS), "kiln p50 / p99 ms", "tuned p50 / p99 ms"]
print("| " + " | ".join(headings) + " |")
print("|---|" + "---:|" * (len(headings) - 1))
order = ["hello", "cpu", "touch-1MiB"]
for workload, connections in sorted({(w, c) for w, c, _ in cells}, key=lambda k: (order.index(k[0]), k[1])):
    kiln_key = (workload, connections, "kiln")
    tuned_key = (workload, connections, "wasmtime-tuned")
    kiln = median(kiln_key, 0)
    others = [median((workload, connections, s), 0) for s, _, _ in OTHERS]
    row = [workload, str(connections), f"{kiln:.0f}", *(f"{o:.0f}" for o in others),
           *(f"{kiln / o:.2f}x" for o in others),
           f"{median(kiln_key, 1):.2f} / {median(kiln_key, 2):.2f}",
           f"{median(tuned_key, 1):.2f} / {median(tuned_key, 2):.2f}"]
    print("| " + " | ".join(row) + " |")
bad = {k: v for k, v in errors.items() if v}
if bad:
    print("non-2xx answers:", ", ".join(f"{s} {w} c{c}: {n}" for (w, c, s), n in sorted(bad.items())))
