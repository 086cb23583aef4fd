"""Pushes an artifact with oras, a registry client independent of kiln, for kiln's registry tests.

    push.py HOST REPOSITORY:TAG spin WASM  a Spin app in Spin's layout: the locked app and one
                                           component's Wasm, each a layer
    push.py HOST REPOSITORY:TAG image      a container image: one tar layer, no app
"""

import hashlib
import json
import os
import sys
import tempfile

import oras.provider

WASM_LAYER = "application/vnd.wasm.content.layer.v1+wasm"
LOCKED_APP_LAYER = "application/vnd.fermyon.spin.application.v1+config"
IMAGE_CONFIG = "application/vnd.oci.image.config.v1+json"


def spin_app(wasm_path):
    """Writes the files of a one-component Spin app; their oras file arguments."""
    with open(wasm_path, "rb") as f:
        wasm = f.read()
    with open("app.wasm", "wb") as f:
        f.write(wasm)
    locked = {
        "spin_lock_version": 0,
        "metadata": {"name": "from-oras", "trigger": {"type": "http", "base": "/"}},
        "triggers": [
            {
                "id": "trigger-hello",
                "trigger_type": "http",
                "trigger_config": {"component": "hello", "route": "/..."},
            }
        ],
        "components": [
            {
                "id": "hello",
                "source": {
                    "content_type": "application/wasm",
                    "digest": "sha256:" + hashlib.sha256(wasm).hexdigest(),
                },
            }
        ],
    }
    with open("locked.json", "w") as f:
        json.dump(locked, f)
    return [f"app.wasm:{WASM_LAYER}", f"locked.json:{LOCKED_APP_LAYER}"]


def image():
    """Writes the layer of a container image; its oras file argument."""
    with open("rootfs.tar", "wb") as f:
        f.write(bytes(1024))
    return ["rootfs.tar:application/vnd.oci.image.layer.v1.tar"]


def main():
    host, target, kind = sys.argv[1:4]
    wasm = os.path.abspath(sys.argv[4]) if kind == "spin" else None
    registry = oras.provider.Registry(hostname=host, insecure=True)
    with tempfile.TemporaryDirectory() as work:
        os.chdir(work)
        with open("config.json", "w") as f:
            json.dump({"architecture": "wasm", "os": "wasip1"}, f)
        files = spin_app(wasm) if kind == "spin" else image()
        registry.push(
            target=f"{host}/{target}",
            files=files,
            manifest_config=f"config.json:{IMAGE_CONFIG}",
        )


if __name__ == "__main__":
    main()
