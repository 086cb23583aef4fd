#!/usr/bin/env python3
"""Save to serving: `kiln watch` beside a full restart (`kiln up --build` again), in one run.

An app from the http-rust template is built once; then its greeting is edited twice: once
under `kiln watch` (which rebuilds the component and swaps it in), once under `kiln up`, which
is then stopped and started again with `--build` on the same port. Each time is taken from
the save to the first response with the new greeting, polling GET / every 10 ms; requests
that fail on the way (nothing listening) are counted.

    bench/watch.py [KILN]      (default: target/release/kiln)
"""

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

KILN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release/kiln")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args, cwd, port):
    """Starts kiln with `args` on `port`; returns the process once it serves."""
    process = subprocess.Popen(
        [KILN, *args, "--listen", f"127.0.0.1:{port}"],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    for line in process.stdout:
        if line.startswith("Serving "):
            return process
    raise SystemExit(f"kiln {args} did not serve")


def body(url):
    try:
        with urllib.request.urlopen(url + "/", timeout=5) as response:
            return response.read().decode()
    except OSError:
        return None


def until_served(url, text, since):
    """Polls GET / every 10 ms until it answers `text`: seconds from `since`, and how many
    requests failed on the way."""
    failed = 0
    while True:
        answer = body(url)
        if answer == text:
            return time.monotonic() - since, failed
        if answer is None:
            failed += 1
        time.sleep(0.01)


def edit(source, old, new):
    with open(source) as f:
        text = f.read()
    assert old in text, f"{old} not in {source}"
    with open(source, "w") as f:
        f.write(text.replace(old, new))


def stop(process):
    process.send_signal(signal.SIGINT)
    rest = process.stdout.read()
    process.wait()
    return rest


def main():
    work = tempfile.mkdtemp(prefix="kiln-watch-bench-")
    subprocess.run([KILN, "new", "http-rust", "app", "-a"], cwd=work, check=True,
                   stdout=subprocess.DEVNULL)
    app = os.path.join(work, "app")
    source = os.path.join(app, "src", "lib.rs")
    subprocess.run([KILN, "build", "-f", app], check=True, stderr=subprocess.DEVNULL)
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    watch = start(["watch", "-f", app], work, port)
    assert body(url) == "Hello World!"
    saved = time.monotonic()
    edit(source, "Hello World!", "Hello Watch!")
    watched, watch_failed = until_served(url, "Hello Watch!", saved)
    printed = stop(watch)
    build = re.search(r"Built app in (\d+) ms", printed)

    # A restart as a developer does it: stop kiln up, start it again with --build.
    up = start(["up", "-f", app], work, port)
    saved = time.monotonic()
    edit(source, "Hello Watch!", "Hello Restart!")
    stop(up)
    stopped = time.monotonic()
    up = subprocess.Popen([KILN, "up", "--build", "-f", app, "--listen", f"127.0.0.1:{port}"],
                          cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    restarted, restart_failed = until_served(url, "Hello Restart!", saved)
    down = time.monotonic() - stopped - 0.01
    up.send_signal(signal.SIGINT)
    up.wait()

    print(f"kiln watch: save to serving {watched * 1000:6.0f} ms"
          + (f" (cargo build {build.group(1)} ms)" if build else "")
          + f", requests failed {watch_failed}, unavailable 0 ms")
    print(f"restart:    save to serving {restarted * 1000:6.0f} ms,"
          f" requests failed {restart_failed}, unavailable {down * 1000:.0f} ms")
    print(f"watch / restart, save to serving: {watched / restarted:.2f}x")


if __name__ == "__main__":
    main()
