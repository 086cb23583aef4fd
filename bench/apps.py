"""Generates apps of N components for the benchmarks: the given guest, each made a distinct
binary by a custom section naming it (so nothing is shared that separate components would not
share), each on its own route."""

import os


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
