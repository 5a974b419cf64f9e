"""Benchmark of the web API (not a test: run it by hand, figures go to the report).

    python benchmarks/bench_web.py [N_DEPLOYMENTS]

With N deployments in a SQLite store (default 10,000): ``GET /api/v1/deployments?limit=50``
under ``hey -c 50`` against ``releasegate serve`` and, for the ratio, a bare FastAPI
hello-world under the same uvicorn; the matrix page's server time; how long an event takes
from being recorded to reaching an SSE client.
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


def _hey(url: str, token: str | None) -> dict[str, float]:
    args = ["hey", "-n", "3000", "-c", "50"] + (["-H", f"Authorization: Bearer {token}"] if token else []) + [url]
    out = subprocess.run(args, capture_output=True, text=True, timeout=600).stdout
    found = {k: float(v) * 1000 for k, v in re.findall(r"(\d\d)%+ in ([\d.]+) secs", out)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    codes = re.findall(r"\[(\d+)\]\s+(\d+) responses", out)
    return {"p50_ms": found["50"], "p95_ms": found["95"], "p99_ms": found["99"], "rps": rps,
            "codes": str(codes)}  # type: ignore[dict-item]


def main(n: int) -> None:
    from releasegate.service import tokens
    from releasegate.service.workspace import Workspace

    root = Path(tempfile.mkdtemp(prefix="rg-webbench-"))
    (root / "releasegate.yaml").write_text(CONFIG.split("confirmations:")[0])
    ws = Workspace(root / "releasegate.yaml")
    token = tokens.create_token(ws, ws.actor(requested="root", env_user=None), "bench", user="root").secret
    store = ws.store
    t0 = time.perf_counter()
    for i in range(n):
        d = store.create_deployment(environment=("staging", "production")[i % 2], version=f"1.{i // 100}.{i % 100}",
                                    kind="normal", user="dev", plan={})
        store.set_deployment_status(d.id, "succeeded", detail="bench")
    print(f"{n} deployments recorded in {time.perf_counter() - t0:.1f}s")
    last = d.id
    ws.close()

    port, hello_port = _port(), _port()
    (root / "hello.py").write_text(HELLO)
    env = {**os.environ, "RELEASEGATE_USER": "root"}
    serve = subprocess.Popen([*RG, "serve", "--port", str(port)], cwd=root, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    hello = subprocess.Popen([sys.executable, "-m", "uvicorn", "hello:app", "--port", str(hello_port),
                              "--log-level", "warning"], cwd=root, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(f"{base}/monitoring/health")
        _wait(f"http://127.0.0.1:{hello_port}/")
        api = _hey(f"{base}/api/v1/deployments?limit=50", token)
        bare = _hey(f"http://127.0.0.1:{hello_port}/", None)
        print(f"GET /api/v1/deployments?limit=50, hey -n 3000 -c 50: {api}")
        print(f"bare FastAPI hello-world,          hey -n 3000 -c 50: {bare}")
        print(f"ratio p95: {api['p95_ms'] / bare['p95_ms']:.1f}x")
        with httpx.Client(base_url=base, timeout=60) as c:
            c.post("/login", data={"token": token})
            times = []
            for _ in range(30):
                s = time.perf_counter()
                assert c.get("/").status_code == 200
                times.append((time.perf_counter() - s) * 1000)
            times.sort()
            print(f"matrix page /: median {statistics.median(times):.1f} ms, "
                  f"p95 {times[int(len(times) * 0.95) - 1]:.1f} ms (30 sequential requests)")
        print(f"SSE delivery: {_sse_latency(base, token, root, last)}")
    finally:
        for p in (serve, hello):
            p.send_signal(signal.SIGINT)
            p.wait(timeout=60)


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
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
