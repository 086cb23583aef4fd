"""Apps through a registry: for an app of N components (bench/apps.py), the time of
`kiln registry push` to an empty repository and again (nothing to upload), of
`kiln registry pull` into an empty cache, and of `kiln up --from REF` to its first response,
cold (nothing cached: pull and compile), warm (layers and compiled code cached), and cold from
an artifact pushed with `--precompile --sign` and run with `--verify` (pull, no compile). Runs
a Distribution registry (Debian's docker-registry) on a local port; keys come from openssl.
Usage: oci.py KILN WASM WORK_DIR N [N ...]."""

import os
import shutil
import subprocess
import sys
import time

from apps import generate, start_until_answered

kiln, wasm, work = sys.argv[1:4]
counts = [int(n) for n in sys.argv[4:]]
REGISTRY_PORT = 8340
PORT = 8341


def registry():
    data = os.path.join(work, "registry")
    config = os.path.join(work, "registry.yml")
    with open(config, "w") as f:
        f.write(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {data}\n"
                f"http:\n  addr: 127.0.0.1:{REGISTRY_PORT}\nlog:\n  level: error\n")
    proc = subprocess.Popen(["docker-registry", "serve", config],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    return proc


def timed(args, cache):
    env = dict(os.environ, KILN_CACHE_DIR=cache)
    begin = time.perf_counter()
    subprocess.run([kiln, *args], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - begin


def keys():
    """An ECDSA P-256 key pair: (private, public) PEM paths."""
    private, public = os.path.join(work, "key.pem"), os.path.join(work, "key.pub")
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out", private], check=True)
    subprocess.run(["openssl", "pkey", "-in", private, "-pubout", "-out", public], check=True)
    return private, public


def up_from(reference, cache, extra=()):
    """Seconds from `kiln up --from` to its first answer."""
    proc, elapsed = start_until_answered(
        [kiln, "up", "--from", reference, "--insecure", *extra, "--listen", f"127.0.0.1:{PORT}"],
        PORT, "/app0", cache, cwd=work)
    proc.terminate()
    proc.wait()
    return elapsed


server = registry()
private, public = keys()
try:
    print(f"{'components':>10} | {'push':>8} | {'push again':>10} | {'pull':>8} | "
          f"{'up --from cold':>14} | {'up --from warm':>14} | {'push --precompile':>17} | "
          f"{'cold, precompiled':>17}")
    for n in counts:
        app_dir = os.path.join(work, f"oci-{n}")
        generate(wasm, n, app_dir, f"oci-{n}")
        reference = f"127.0.0.1:{REGISTRY_PORT}/bench/oci-{n}:v1"
        push_cache = os.path.join(work, f"push-cache-{n}")
        push = ["registry", "push", reference, "-f", app_dir, "--insecure"]
        first = timed(push, push_cache)
        again = timed(push, push_cache)
        pull_cache = os.path.join(work, f"pull-cache-{n}")
        pull = timed(["registry", "pull", reference, "--insecure"], pull_cache)
        up_cache = os.path.join(work, f"up-cache-{n}")
        cold = up_from(reference, up_cache)
        warm = up_from(reference, up_cache)
        shipped = f"127.0.0.1:{REGISTRY_PORT}/bench/oci-{n}-precompiled:v1"
        precompile = timed(["registry", "push", shipped, "-f", app_dir, "--insecure",
                            "--precompile", "--sign", private], push_cache)
        fresh = os.path.join(work, f"fresh-cache-{n}")
        cold_precompiled = up_from(shipped, fresh, ["--verify", public])
        print(f"{n:>10} | {first:>6.2f} s | {again:>8.2f} s | {pull:>6.2f} s | "
              f"{cold:>12.2f} s | {warm:>12.2f} s | {precompile:>15.2f} s | "
              f"{cold_precompiled:>15.2f} s")
        for path in (app_dir, push_cache, pull_cache, up_cache, fresh):
            shutil.rmtree(path, ignore_errors=True)
finally:
    server.terminate()
