"""Process start to first 200 for kiln up (warm and cold compile cache; cold with tiered
compilation, kiln's default, and with Cranelift alone), wasmtime serve (warm
and cold; with its defaults, and with a timeout as kiln always has one: a timeout turns on the
epoch checks that wasmtime then compiles into every function and loop) and the native server;
the median of five starts each, polling every millisecond.
Usage: startup.py KILN APP_DIR WASM NATIVE."""

import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

kiln, app, wasm, native = sys.argv[1:5]
PORT = 8320


def start_to_200(command, env=None):
    begin = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=1)
                conn.request("GET", "/")
                if conn.getresponse().status == 200:
                    return (time.perf_counter() - begin) * 1000
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit(f"{command[0]} exited with {proc.returncode} before answering")
                time.sleep(0.001)
    finally:
        proc.terminate()
        proc.wait()


def median_of(label, make_command, cold, fill=None):
    """The median of five starts of make_command's command; with a warm cache, filled first by
    fill's command (else the same one)."""
    times = []
    for _ in range(5):
        cache = tempfile.mkdtemp()
        env = dict(os.environ, KILN_CACHE_DIR=cache)
        command = make_command(cache)
        if not cold:
            start_to_200((fill or make_command)(cache), env)
        times.append(start_to_200(command, env))
        shutil.rmtree(cache, ignore_errors=True)
    times.sort()
    print(f"{label:<34} median {statistics.median(times):6.1f} ms  (runs: {', '.join(f'{t:.1f}' for t in times)})")


listen = f"127.0.0.1:{PORT}"
kiln_up = lambda cache: [kiln, "up", "-f", app, "--listen", listen]
kiln_up_cranelift = lambda cache: kiln_up(cache) + ["--compiler", "cranelift"]


def wasmtime_serve(*options):
    def command(cache):
        # Beside the cache directory, not in it: wasmtime's cache cleaner deletes files it
        # does not know there.
        config = os.path.join(cache, "wasmtime-cache.toml")
        with open(config, "w") as f:
            f.write(f'[cache]\ndirectory = "{os.path.join(cache, "wasmtime")}"\n')
        return ["wasmtime", "serve", "-S", "cli=y", *options, "-C", f"cache-config={config}",
                "--addr", listen, wasm]
    return command


# A warm cache holds the optimized code, as it does once a tiered start has optimized.
median_of("kiln up, warm cache", kiln_up, cold=False, fill=kiln_up_cranelift)
median_of("kiln up, cold cache", kiln_up, cold=True)
median_of("kiln up --compiler cranelift, cold", kiln_up_cranelift, cold=True)
median_of("wasmtime serve, warm cache", wasmtime_serve(), cold=False)
median_of("wasmtime serve, cold cache", wasmtime_serve(), cold=True)
median_of("wasmtime serve + timeout, warm", wasmtime_serve("-W", "timeout=30s"), cold=False)
median_of("wasmtime serve + timeout, cold", wasmtime_serve("-W", "timeout=30s"), cold=True)
median_of("native hyper", lambda cache: [native, listen], cold=True)
