"""Cold start of kiln builds side by side: an app of N distinct components (bench/apps.py,
the given guest), started by each `kiln` binary in turns, ROUNDS times, each start with an
empty compile cache; prints each binary's median seconds from `kiln up` to its first answer.
Turns make a change's effect visible on a machine whose speed drifts between runs.
Usage: cold_turns.py WASM N ROUNDS KILN [KILN ...]."""

import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from apps import generate

wasm, n, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
kilns = sys.argv[4:]
PORT = 8331


def cold_start(kiln, app_dir, cache):
    """Seconds from starting kiln up with the empty cache `cache` to its first answer."""
    env = dict(os.environ, KILN_CACHE_DIR=cache)
    begin = time.perf_counter()
    proc = subprocess.Popen([kiln, "up", "-f", app_dir, "--listen", f"127.0.0.1:{PORT}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        while True:
            if proc.poll() is not None:
                sys.exit(f"{kiln} up exited with {proc.returncode} while starting")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
                conn.request("GET", "/none")
                conn.getresponse().read()
                return time.perf_counter() - begin
            except OSError:
                time.sleep(0.005)
    finally:
        proc.terminate()
        proc.wait()


work = tempfile.mkdtemp()
try:
    app_dir = os.path.join(work, "app")
    generate(wasm, n, app_dir, f"cold-{n}")
    seconds = {kiln: [] for kiln in kilns}
    for _ in range(rounds):
        for kiln in kilns:
            cache = tempfile.mkdtemp(dir=work)
            seconds[kiln].append(cold_start(kiln, app_dir, cache))
            shutil.rmtree(cache)
    for kiln in kilns:
        runs = ", ".join(f"{s:.2f}" for s in seconds[kiln])
        print(f"{kiln}: median {statistics.median(seconds[kiln]):.2f} s  (runs: {runs})")
finally:
    shutil.rmtree(work)
