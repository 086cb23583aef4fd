#!/usr/bin/env python3
"""Save to serving: `kiln watch` beside a full restart (`kiln up --build` again), in one run.

An app from the http-rust template is built once; then its greeting is edited twice: once
under `kiln watch` (which rebuilds the component and swaps it in), once followed by a restart
of `kiln up --build`. Each time is taken from the save to the first response with the new
greeting, polling every 10 ms.

    bench/watch.py [KILN]      (default: target/release/kiln)
"""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

KILN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release/kiln")


def start(args, cwd):
    """Starts kiln with `args`; returns the process and the URL it serves."""
    process = subprocess.Popen(
        [KILN, *args, "--listen", "127.0.0.1:0"],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    for line in process.stdout:
        if line.startswith("Serving "):
            return process, line.split()[1]
    raise SystemExit(f"kiln {args} did not serve")


def body(url):
    try:
        with urllib.request.urlopen(url + "/", timeout=5) as response:
            return response.read().decode()
    except OSError:
        return None


def wait_for(url_of, text, since):
    """Seconds from `since` until GET / answers `text`; `url_of()` gives the URL once known."""
    while True:
        url = url_of()
        if url and body(url) == text:
            return time.monotonic() - since
        time.sleep(0.01)


def edit(source, old, new):
    with open(source) as f:
        text = f.read()
    assert old in text, f"{old} not in {source}"
    with open(source, "w") as f:
        f.write(text.replace(old, new))


def main():
    work = tempfile.mkdtemp(prefix="kiln-watch-bench-")
    subprocess.run([KILN, "new", "http-rust", "app", "-a"], cwd=work, check=True,
                   stdout=subprocess.DEVNULL)
    app = os.path.join(work, "app")
    source = os.path.join(app, "src", "lib.rs")
    subprocess.run([KILN, "build", "-f", app], check=True, stderr=subprocess.DEVNULL)

    watch, url = start(["watch", "-f", app], work)
    assert body(url) == "Hello World!"
    saved = time.monotonic()
    edit(source, "Hello World!", "Hello Watch!")
    watched = wait_for(lambda: url, "Hello Watch!", saved)
    watch.send_signal(signal.SIGINT)
    printed = watch.stdout.read()
    watch.wait()
    build = re.search(r"Built app in (\d+) ms", printed)

    saved = time.monotonic()
    edit(source, "Hello Watch!", "Hello Restart!")
    up, url = start(["up", "--build", "-f", app], work)
    restarted = wait_for(lambda: url, "Hello Restart!", saved)
    up.send_signal(signal.SIGINT)
    up.wait()

    print(f"kiln watch, save to serving:           {watched * 1000:7.0f} ms"
          + (f" (of which the cargo build {build.group(1)} ms)" if build else ""))
    print(f"kiln up --build again, save to serving: {restarted * 1000:7.0f} ms")
    print(f"watch / restart:                       {watched / restarted:7.2f}x")


if __name__ == "__main__":
    main()
