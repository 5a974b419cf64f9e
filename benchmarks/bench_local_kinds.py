"""The ``local`` target per app kind: failed requests, p99 and swap time during swaps and
rollbacks under an open-loop load, and a CPU-bound app's throughput with 1 vs 2 workers.

For each kind — ASGI (Starlette), WSGI (Flask through a2wsgi), gunicorn with its own
command (2 sync workers, ``protocol: listen-fds``), a Node server speaking the process
protocol, and the Flask app with ``workers: 2`` — it deploys 1.0.0, starts
``benchmarks/loadgen.py`` at ``--rate`` requests/s in a separate process, then alternates
deploy 2.0.0 / rollback 1.0.0 ``--swaps`` times. It prints the achieved load rate (so a
weak client shows), failed requests, p99 of requests sent in steady state (before the first
swap) against p99 of requests sent while a swap ran, and the mean/max swap time (the
``swap_s`` the supervisor reports: start of the new version to the old one drained).
``--hog`` runs a busy-looping process beside it (a loaded machine).

    python benchmarks/bench_local_kinds.py [--swaps 6] [--rate 200] [--hog] [--kinds asgi,wsgi]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from bench_swap import _free_port, _start_load, _stop_load

from releasegate.drivers.api import Release
from releasegate.drivers.targets.local import LocalOptions, LocalTarget
from releasegate.testing import make_context

HERE = Path(__file__).resolve().parent
APPS = HERE.parent / "tests" / "drivers"
GUNICORN = ["{python}", "-m", "gunicorn", "--workers", "2", "--no-control-socket", "app:app"]

KINDS: dict[str, tuple[Path, dict[str, Any]]] = {
    "asgi": (APPS / "local_app" / "app.py", {"asgi": "app:app"}),
    "wsgi": (APPS / "local_app_wsgi" / "app.py", {"wsgi": "app:app"}),
    "gunicorn": (APPS / "local_app_wsgi" / "app.py", {"command": GUNICORN}),
    "node": (
        APPS / "local_app_node" / "server.js",
        {"command": ["node", "{version_dir}/server.js"], "protocol": "releasegate"},
    ),
    "wsgi-workers-2": (APPS / "local_app_wsgi" / "app.py", {"wsgi": "app:app", "workers": 2}),
}


class Site:
    """A workdir with versions 1.0.0 and 2.0.0 of one app and the target's options."""

    def __init__(self, work: Path, app_file: Path, extra: dict[str, Any]) -> None:
        for version in ("1.0.0", "2.0.0"):
            folder = work / "app" / "versions" / version
            folder.mkdir(parents=True)
            shutil.copy(app_file, folder / app_file.name)
        self.work = work
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.options = LocalOptions.model_validate(
            {
                "app": "app",
                "port": self.port,
                "env": {"APP_VERSION": "{version}"},
                "state_dir": "state",
                "drain_timeout": "10s",
                **extra,
            }
        )
        self.target = LocalTarget()

    def swap(self, version: str) -> float:
        ctx = make_context(release=Release("bench", version), workdir=self.work)
        result = asyncio.run(self.target.deploy(self.options, ctx))
        if not result.ok:
            raise SystemExit(f"swap to {version} failed: {result.summary}")
        return float(str(result.evidence["swap_s"]))

    def stop(self) -> None:
        ctx = make_context(release=Release("bench", "-"), workdir=self.work)
        asyncio.run(self.target.stop(self.options, ctx))


def _p99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[int(len(ordered) * 0.99)] * 1000 if ordered else 0.0


def bench_kind(work: Path, kind: str, swaps: int, rate: float) -> dict[str, Any]:
    """Swaps and rollbacks of one kind under load; the figures of one row."""
    app_file, extra = KINDS[kind]
    site = Site(work, app_file, extra)
    site.swap("1.0.0")
    out = work / "load.json"
    load = _start_load(f"{site.url}/monitoring/version", out, rate)
    windows: list[tuple[float, float]] = []
    swap_s: list[float] = []
    try:
        time.sleep(3.0)  # steady state
        for i in range(swaps):
            start = time.time()
            swap_s.append(site.swap("2.0.0" if i % 2 == 0 else "1.0.0"))
            windows.append((start, time.time()))
            time.sleep(1.0)
    finally:
        result = _stop_load(load, out)
        site.stop()
    records = result["records"]
    ok = [r for r in records if r[4] is None]
    first, last = records[0][0], records[-1][0]
    steady = [r[1] - r[0] for r in ok if r[0] < windows[0][0]]
    during = [r[1] - r[0] for r in ok if any(a <= r[0] <= b for a, b in windows)]
    return {
        "requests": len(records),
        "failed": result["summary"]["failed"],
        "errors": result["summary"]["errors"],
        "rate": len(records) / max(last - first, 1e-9),
        "p99_steady_ms": _p99(steady),
        "p99_swaps_ms": _p99(during),
        "swap_mean_s": sum(swap_s) / len(swap_s),
        "swap_max_s": max(swap_s),
    }


async def _closed_loop(url: str, seconds: float, clients: int) -> float:
    done = 0
    deadline = time.monotonic() + seconds

    async def client() -> None:
        nonlocal done
        async with httpx.AsyncClient(timeout=10) as http:
            while time.monotonic() < deadline:
                if (await http.get(url)).status_code == 200:
                    done += 1

    await asyncio.gather(*(client() for _ in range(clients)))
    return done / seconds


def bench_cpu(work: Path, workers: int, seconds: float) -> float:
    """Requests/s of the Flask app's CPU-bound ``/cpu`` with ``workers`` processes."""
    site = Site(work, APPS / "local_app_wsgi" / "app.py", {"wsgi": "app:app", "workers": workers})
    site.swap("1.0.0")
    try:
        # the client in its own process: it must not share a core's GIL with the bench
        code = (
            "import asyncio, sys; sys.path.insert(0, sys.argv[1]); import bench_local_kinds as b;"
            "print(asyncio.run(b._closed_loop(sys.argv[2], float(sys.argv[3]), 8)))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, str(HERE), f"{site.url}/cpu", str(seconds)],
            capture_output=True,
            text=True,
            check=True,
        )
        return float(out.stdout.strip())
    finally:
        site.stop()


def _each(kinds: list[str], run: Callable[[Path, str], dict[str, Any]]) -> None:
    for kind in kinds:
        work = Path(tempfile.mkdtemp(prefix=f"rg-bench-{kind}-"))
        try:
            row = run(work, kind)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(f"{kind}_load_rate: {row['rate']:.0f} requests/s", flush=True)
        print(f"{kind}_failed: {row['failed']} of {row['requests']} requests {row['errors']}")
        print(f"{kind}_p99_steady: {row['p99_steady_ms']:.1f} ms")
        print(f"{kind}_p99_during_swaps: {row['p99_swaps_ms']:.1f} ms")
        print(f"{kind}_swap: {row['swap_mean_s']:.2f} s mean, {row['swap_max_s']:.2f} s max")


def main() -> int:
    """Run every kind, then the CPU-bound comparison; print ``name: value unit`` lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--swaps", type=int, default=6)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--cpu-seconds", type=float, default=5.0)
    parser.add_argument("--hog", action="store_true", help="a busy loop beside it")
    args = parser.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]
    if "node" in kinds and shutil.which("node") is None:
        kinds.remove("node")
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.hog else None
    try:
        print(f"swaps: {args.swaps} per kind (deploys and rollbacks alternating)")
        print(f"hog: {'yes' if hog else 'no'}")
        _each(kinds, lambda work, kind: bench_kind(work, kind, args.swaps, args.rate))
        for workers in (1, 2):
            with tempfile.TemporaryDirectory(prefix="rg-bench-cpu-") as work:
                rps = bench_cpu(Path(work), workers, args.cpu_seconds)
            print(f"cpu_bound_workers_{workers}: {rps:.0f} requests/s")
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
