"""A lattice of three `kiln host`s on this machine beside the same app on one `kiln up`:
requests/s and p50/p99 (wrk, 64 connections) of the hello workload through `kiln up`, through
a host that runs a replica, and through a host that runs none (each request forwarded to one
that does: the forwarding cost); then the time from SIGKILL of the only host with a replica
(not the reconciler's) to a request through another host answered again. Runs nats-server with JetStream and a
Distribution registry (Debian's docker-registry) on local ports.
Usage: lattice.py KILN WASM WORK_DIR SECONDS."""

import http.client
import json
import os
import re
import subprocess
import sys
import time

kiln, wasm, work, seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
NATS_PORT, REGISTRY_PORT, UP_PORT, HOST_PORTS = 8350, 8351, 8352, [8353, 8354, 8355]
NATS = f"nats://127.0.0.1:{NATS_PORT}"
LATTICE = ["--nats", NATS, "--lattice", "bench"]
env = dict(os.environ, KILN_CACHE_DIR=os.path.join(work, "cache"))
procs = []


def spawn(args, **kw):
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, **kw)
    procs.append(proc)
    return proc


def answers(port, host):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/", headers={"Host": host})
        return conn.getresponse().status == 200
    except OSError:
        return False


def wait(port, host="localhost"):
    for _ in range(2000):
        if answers(port, host):
            return
        time.sleep(0.005)
    sys.exit(f"nothing answered on port {port} for {host}")


def wrk(port, host):
    out = subprocess.run(["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency", "-H", f"Host: {host}",
                          f"http://127.0.0.1:{port}/"], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+(\S+)", out).group(1)
    p99 = re.search(r"99%\s+(\S+)", out).group(1)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, p50, p99, int(bad.group(1)) if bad else 0


def kiln_run(*args):
    subprocess.run([kiln, *args], check=True, env=env, stdout=subprocess.DEVNULL)


def running(name):
    out = subprocess.run([kiln, "lattice", "status", "--json", *LATTICE], env=env,
                         capture_output=True, text=True, check=True).stdout
    for d in json.loads(out)["deployments"]:
        if d["name"] == name:
            return d["running"]
    return {}


try:
    spawn(["nats-server", "-a", "127.0.0.1", "-p", str(NATS_PORT), "-js", "-sd", os.path.join(work, "nats")])
    config = os.path.join(work, "registry.yml")
    with open(config, "w") as f:
        f.write(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {work}/registry\n"
                f"http:\n  addr: 127.0.0.1:{REGISTRY_PORT}\nlog:\n  level: error\n")
    spawn(["docker-registry", "serve", config])
    time.sleep(1)
    app = os.path.join(work, "app")
    os.makedirs(app, exist_ok=True)
    with open(os.path.join(app, "spin.toml"), "w") as f:
        f.write(f'spin_manifest_version = 2\n[application]\nname = "hello"\n[[trigger.http]]\n'
                f'route = "/..."\ncomponent = "hello"\n[component.hello]\nsource = "{wasm}"\n'
                f'[component.hello.tool.kiln.limits]\nmax_concurrent = 1000\n')
    reference = f"127.0.0.1:{REGISTRY_PORT}/bench/hello:v1"
    kiln_run("registry", "push", reference, "-f", app, "--insecure")

    up = spawn([kiln, "up", "-f", app, "--listen", f"127.0.0.1:{UP_PORT}"], cwd=work)
    wait(UP_PORT)
    hosts = []
    for i, port in enumerate(HOST_PORTS):
        # h0 starts first and reconciles; the replica goes to a host labelled for apps.
        role = "app" if i > 0 else "control"
        hosts.append(spawn([kiln, "host", *LATTICE, "--name", f"h{i}", "--listen", f"127.0.0.1:{port}",
                            "--label", f"role={role}", "--insecure", "--state-dir",
                            os.path.join(work, f"h{i}")], cwd=work))
        time.sleep(0.5)
    kiln_run("deploy", reference, "--name", "web", "--replicas", "1", "--require", "role=app",
             *LATTICE, "--insecure")
    holder = next(iter(running("web")))
    local = HOST_PORTS[int(holder[1:])]
    remote = HOST_PORTS[0]
    wait(remote, "web.localhost")

    print(f"{'served by':<32} | {'req/s':>9} | {'p50':>8} | {'p99':>8} | {'non-200':>7} | vs kiln up")
    base = None
    for label, port, host in [("kiln up (one process)", UP_PORT, "localhost"),
                              ("lattice host with the replica", local, "web.localhost"),
                              ("lattice host forwarding", remote, "web.localhost")]:
        wrk(port, host)  # warm-up
        rps, p50, p99, bad = wrk(port, host)
        base = base or rps
        print(f"{label:<32} | {rps:>9.0f} | {p50:>8} | {p99:>8} | {bad:>7} | {rps / base:.2f}x")

    victim = hosts[int(holder[1:])]
    killed = time.perf_counter()
    victim.kill()
    while not answers(remote, "web.localhost"):
        time.sleep(0.01)
    moved = time.perf_counter() - killed
    while not running("web") or holder in running("web"):
        time.sleep(0.05)
    print(f"SIGKILL of the replica's host to a request answered again: {moved:.2f} s; "
          f"to the replica running elsewhere (lattice status): {time.perf_counter() - killed:.2f} s")
finally:
    for proc in procs:
        proc.kill()
