"""Benchmark of the web API (not a test: run it by hand, figures go to the report).

    python benchmarks/bench_web.py [N_DEPLOYMENTS] [--processes P] [--store DIR]

With N deployments in a SQLite store (default 10,000; ``--store DIR`` reuses the store a
previous run left in DIR): ``GET /api/v1/deployments?limit=50`` under ``hey -c 50``
against ``releasegate serve`` with 1 and W processes (default 2) and, for the ratio, a
bare FastAPI hello-world under the same uvicorn with as many (and the same access log at
``info``, as ``serve`` runs); each with the server's CPU
time per request (its processes' user + system time, from /proc: steadier than latency
on a shared machine); the matrix page's server time; how long an event takes from being
recorded to reaching an SSE client.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parents[1]))
from tests.web.conftest import CONFIG

RG = [sys.executable, "-m", "releasegate"]
HELLO = "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/')\ndef hello() -> dict[str, str]:\n    return {'hello': 'world'}\n"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer")


def _cpu(pid: int) -> float:
    """User + system seconds of ``pid`` and every process below it."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def _hey(url: str, token: str | None, pid: int, n: int = 3000) -> dict[str, float]:
    args = ["hey", "-n", str(n), "-c", "50"] + (["-H", f"Authorization: Bearer {token}"] if token else []) + [url]
    subprocess.run([*args[:2], "300", *args[3:]], capture_output=True, timeout=600)  # warm up
    before = _cpu(pid)
    out = subprocess.run(args, capture_output=True, text=True, timeout=600).stdout
    cpu_ms = (_cpu(pid) - before) / n * 1000
    found = {k: float(v) * 1000 for k, v in re.findall(r"(\d\d)%+ in ([\d.]+) secs", out)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    codes = dict(re.findall(r"\[(\d+)\]\s+(\d+) responses", out))
    assert codes == {"200": str(n)}, codes
    return {"p50_ms": round(found["50"], 1), "p95_ms": round(found["95"], 1),
            "p99_ms": round(found["99"], 1), "rps": round(rps), "cpu_ms_per_request": round(cpu_ms, 2)}


def _seed(root: Path, n: int) -> tuple[str, int]:
    from releasegate.service import tokens
    from releasegate.service.workspace import Workspace

    fresh = not (root / "releasegate.yaml").exists()
    if fresh:
        (root / "releasegate.yaml").write_text(CONFIG.split("confirmations:")[0])
    ws = Workspace(root / "releasegate.yaml")
    admin = ws.actor(requested="root", env_user=None)
    token = tokens.create_token(ws, admin, f"bench-{time.time_ns()}", user="root").secret
    store = ws.store
    if fresh:
        t0 = time.perf_counter()
        for i in range(n):
            d = store.create_deployment(environment=("staging", "production")[i % 2],
                                        version=f"1.{i // 100}.{i % 100}", kind="normal", user="dev", plan={})
            store.set_deployment_status(d.id, "succeeded", detail="bench")
        print(f"{n} deployments recorded in {time.perf_counter() - t0:.1f}s")
    last = store.list_deployments(limit=1)[0].id
    ws.close()
    return token, last


def _start(argv: list[str], cwd: Path, url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RELEASEGATE_USER": "root"}
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait(url)
    time.sleep(2)  # every worker up
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)


def main(n: int, processes: int, store: Path | None) -> None:
    root = store or Path(tempfile.mkdtemp(prefix="rg-webbench-"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"store: {root} ({os.getloadavg()[0]:.1f} load average)")
    token, last = _seed(root, n)
    (root / "hello.py").write_text(HELLO)
    for w in sorted({1, processes}):
        port, hello_port = _port(), _port()
        base = f"http://127.0.0.1:{port}"
        serve = _start([*RG, "serve", "--port", str(port), "--processes", str(w)], root, f"{base}/monitoring/health")
        try:
            api = _hey(f"{base}/api/v1/deployments?limit=50", token, serve.pid)
        finally:
            _stop(serve)
        hello = _start([sys.executable, "-m", "uvicorn", "hello:app", "--port", str(hello_port),
                        "--log-level", "info", "--workers", str(w)], root, f"http://127.0.0.1:{hello_port}/")
        try:
            bare = _hey(f"http://127.0.0.1:{hello_port}/", None, hello.pid)
        finally:
            _stop(hello)
        print(f"processes {w}: GET /api/v1/deployments?limit=50, hey -n 3000 -c 50: {api}")
        print(f"processes {w}: bare FastAPI hello-world, same settings:        {bare}")
        print(f"processes {w}: ratio p95 {api['p95_ms'] / bare['p95_ms']:.1f}x, "
              f"CPU per request {api['cpu_ms_per_request'] / bare['cpu_ms_per_request']:.1f}x")
    port = _port()
    base = f"http://127.0.0.1:{port}"
    serve = _start([*RG, "serve", "--port", str(port)], root, f"{base}/monitoring/health")
    try:
        with httpx.Client(base_url=base, timeout=60) as c:
            c.post("/login", data={"token": token})
            times, server = [], []
            for _ in range(30):
                s = time.perf_counter()
                page = c.get("/")
                assert page.status_code == 200
                times.append((time.perf_counter() - s) * 1000)
                server.append(float(page.headers["server-timing"].split("dur=")[1]))
            times.sort()
            server.sort()
            print(f"matrix page /: server time (Server-Timing) median {statistics.median(server):.1f} ms, "
                  f"p95 {server[int(len(server) * 0.95) - 1]:.1f} ms; at the client median "
                  f"{statistics.median(times):.1f} ms, p95 {times[int(len(times) * 0.95) - 1]:.1f} ms "
                  f"(30 sequential requests)")
        print(f"SSE delivery: {_sse_latency(base, token, root, last)}")
    finally:
        _stop(serve)


def _sse_latency(base: str, token: str, root: Path, deployment_id: int) -> str:
    """Record events for a running deployment from another process' store handle and time
    how long each takes to reach a stream client."""
    from releasegate.service.workspace import Workspace

    ws = Workspace(root / "releasegate.yaml")
    store = ws.store
    d = store.create_deployment(environment="staging", version="9.9.9", kind="normal", user="dev", plan={})
    received: dict[int, float] = {}
    ready = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", f"{base}/api/v1/deployments/{d.id}/events",
                          headers={"Authorization": f"Bearer {token}"}, timeout=60) as r:
            for line in r.iter_lines():
                ready.set()
                if line.startswith("data: ") and '"bench.tick"' in line:
                    n = int(re.search(r'"n":(\d+)', line).group(1))  # type: ignore[union-attr]
                    received[n] = time.perf_counter()
                    if n == 19:
                        return

    t = threading.Thread(target=listen)
    t.start()
    ready.wait(30)
    sent = {}
    for n in range(20):
        sent[n] = time.perf_counter()
        store.append_event("bench.tick", {"n": n}, deployment_id=d.id)
        time.sleep(0.25)
    t.join(60)
    store.set_deployment_status(d.id, "succeeded", detail="bench")
    ws.close()
    lat = sorted((received[n] - sent[n]) * 1000 for n in sent if n in received)
    return f"{len(lat)} events, median {statistics.median(lat):.0f} ms, max {lat[-1]:.0f} ms"


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--store", type=Path)
    args = parser.parse_args()
    main(args.n, args.processes, args.store)
