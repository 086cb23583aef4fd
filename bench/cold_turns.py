"""Cold start of kiln builds side by side: an app of N distinct components (bench/apps.py,
the given guest), started by each `kiln` binary in turns, ROUNDS times, each start with an
empty compile cache; prints each binary's median seconds from `kiln up` to its first answer.
Turns make a change's effect visible on a machine whose speed drifts between runs.
Usage: cold_turns.py WASM N ROUNDS KILN [KILN ...]."""

import os
import shutil
import statistics
import sys
import tempfile

from apps import generate, start_until_answered

wasm, n, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
kilns = sys.argv[4:]
PORT = 8331


def cold_start(kiln, app_dir, cache):
    """Seconds from starting kiln up with the empty cache `cache` to its first answer."""
    proc, elapsed = start_until_answered(
        [kiln, "up", "-f", app_dir, "--listen", f"127.0.0.1:{PORT}"], PORT, "/none", cache)
    proc.terminate()
    proc.wait()
    return elapsed


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
