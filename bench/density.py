"""Density: N apps on one kiln host. Generates N components (the hello guest, each made a
distinct binary by a custom section naming it, so nothing is shared that separate apps would
not share), each on its own route of one app, and serves them from one `kiln up`. Reports
start-up (compile cache cold, then warm), host RSS after start, the time to first response of
every app in random order (each never hit before: loaded on demand), steady requests/s with
every request to an app picked at random, and RSS after.
Usage: density.py KILN WASM WORK_DIR N [N ...]."""

import http.client
import os
import random
import re
import shutil
import subprocess
import sys
import time

from apps import generate, start_until_answered

kiln, wasm, work = sys.argv[1:4]
counts = [int(n) for n in sys.argv[4:]]
PORT = 8330
STEADY_SECONDS = 10


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024


def start(app_dir, cache):
    """Starts kiln up; returns the process and seconds to its first answer."""
    return start_until_answered([kiln, "up", "-f", app_dir, "--listen", f"127.0.0.1:{PORT}"],
                                PORT, "/none", cache)


def stop(proc):
    proc.terminate()
    proc.wait()


def first_hits(n):
    """Every app once, in random order, on one keep-alive connection: ms per response."""
    order = list(range(n))
    random.shuffle(order)
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    times = []
    for i in order:
        begin = time.perf_counter()
        conn.request("GET", f"/app{i}")
        response = conn.getresponse()
        response.read()
        times.append((time.perf_counter() - begin) * 1000)
        if response.status != 200:
            sys.exit(f"/app{i} answered {response.status}")
    return sorted(times)


def steady(n):
    script = os.path.join(work, "random.lua")
    with open(script, "w") as f:
        f.write(f'request = function() return wrk.format(nil, "/app" .. math.random(0, {n - 1})) end\n')
    out = subprocess.run(["wrk", "-t2", "-c64", f"-d{STEADY_SECONDS}s", "-s", script,
                          f"http://127.0.0.1:{PORT}/"], capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, int(bad.group(1)) if bad else 0


def pct(sorted_values, p):
    return sorted_values[round((len(sorted_values) - 1) * p)]


print(f"{'apps':>6} | {'start cold':>10} | {'start warm':>10} | {'RSS start':>9} | "
      f"{'first response p50 / p99':>24} | {'RSS all hit':>11} | {'random req/s':>12} | {'RSS after':>9}")
for n in counts:
    app_dir = os.path.join(work, f"density-{n}")
    cache = os.path.join(work, f"density-cache-{n}")
    generate(wasm, n, app_dir, f"density-{n}")
    proc, cold = start(app_dir, cache)  # compiles every component into the cache
    stop(proc)
    proc, warm = start(app_dir, cache)
    rss_start = rss_mib(proc.pid)
    hits = first_hits(n)
    rss_hit = rss_mib(proc.pid)
    rps, bad = steady(n)
    rss_after = rss_mib(proc.pid)
    stop(proc)
    note = f" ({bad} non-2xx)" if bad else ""
    print(f"{n:>6} | {cold:>8.1f} s | {warm:>8.2f} s | {rss_start:>5.0f} MiB | "
          f"{pct(hits, 0.5):>9.2f} / {pct(hits, 0.99):>6.2f} ms | {rss_hit:>7.0f} MiB | "
          f"{rps:>12.0f} | {rss_after:>5.0f} MiB{note}")
    shutil.rmtree(app_dir)
    shutil.rmtree(cache)
