"""What the benchmarks share: apps of N components (the given guest, each made a distinct
binary by a custom section naming it, so nothing is shared that separate components would not
share, each on its own route), and starting kiln on one until it answers."""

import http.client
import os
import subprocess
import sys
import time


def leb128(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def custom_section(name, payload):
    body = leb128(len(name)) + name + payload
    return b"\x00" + leb128(len(body)) + body


def generate(wasm, n, app_dir, name):
    """Writes `app_dir/spin.toml` and N components `app{i}.wasm` made from `wasm`."""
    original = open(wasm, "rb").read()
    os.makedirs(app_dir)
    lines = ['spin_manifest_version = 2', '[application]', f'name = "{name}"']
    for i in range(n):
        with open(os.path.join(app_dir, f"app{i}.wasm"), "wb") as f:
            f.write(original + custom_section(b"kiln-bench-app", str(i).encode()))
        lines += ['[[trigger.http]]', f'route = "/app{i}"', f'component = "app{i}"',
                  f'[component.app{i}]', f'source = "app{i}.wasm"']
    with open(os.path.join(app_dir, "spin.toml"), "w") as f:
        f.write("\n".join(lines) + "\n")


def start_until_answered(command, port, path, cache, cwd=None):
    """Starts `command` (a kiln serving on 127.0.0.1:`port`, its compile cache `cache`);
    returns the process and the seconds until GET `path` is answered. Exits if kiln does
    first."""
    env = dict(os.environ, KILN_CACHE_DIR=cache)
    begin = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        if proc.poll() is not None:
            sys.exit(f"{' '.join(command)} exited with {proc.returncode} before answering")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            conn.getresponse().read()
            return proc, time.perf_counter() - begin
        except OSError:
            time.sleep(0.005)
