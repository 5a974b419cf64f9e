"""The ``local`` target per app kind: failed requests, p99 and swap time during swaps and
rollbacks under an open-loop load, and a CPU-bound app's throughput with 1 vs 2 workers.

For each kind — ASGI (Starlette), WSGI (Flask through a2wsgi), gunicorn with its own
command (2 sync workers, ``protocol: listen-fds``), a Node server speaking the process
protocol, and the Flask app with ``workers: 2`` — it deploys 1.0.0, starts
``benchmarks/openload.py`` at ``--rate`` requests/s in a separate process (releasegate's
open-loop generator: latency from each request's scheduled time, its own schedule slip
measured, no retry on a closed keep-alive connection), then alternates deploy 2.0.0 /
rollback 1.0.0 ``--swaps`` times. It prints the achieved load rate and the share of
requests that left more than 10 ms late (so a client that could not keep its rate shows),
failed requests, p99 of the windows (0.25 s) before the first swap against p99 of the
windows a swap overlapped, and the mean/max swap time (the ``swap_s`` the supervisor
reports: start of the new version to the old one drained). The CPU-bound figure uses
``hey`` (8 clients, closed loop, a connection per request) where it is installed: a Python
client took a core itself and capped both figures at ~60 requests/s on a 2-core machine,
and 8 kept-alive connections could all be accepted by one of the two workers (a connection
stays with the process that accepted it), which halved ``workers: 2`` in one run of two.
``--hog`` runs a busy-looping process beside it (a loaded machine).

    python benchmarks/bench_local_kinds.py [--swaps 6] [--rate 200] [--hog] [--kinds asgi,wsgi]
        [--client openload|httpx] [--no-cpu]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from bench_swap import _free_port
from hdrh.histogram import HdrHistogram

from releasegate.drivers.api import Release
from releasegate.drivers.targets.local import LocalOptions, LocalTarget
from releasegate.testing import make_context
from releasegate.verify.openloop import new_histogram

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


CLIENT = "openload"
"""``openload`` (default) or ``httpx``: ``loadgen.py``, the earlier client, whose figures
are turned into the same windows (latency from when it sent, no slip measured)."""


def _start_load(url: str, out: Path, rate: float) -> subprocess.Popen[bytes]:
    """The load client in its own process (it must not share this one's GIL)."""
    script = "openload.py" if CLIENT == "openload" else "loadgen.py"
    extra = ["--duration", "3600"] if CLIENT == "httpx" else []
    return subprocess.Popen(
        [sys.executable, str(HERE / script), "--url", url, "--rate", str(rate),
         "--out", str(out), *extra],
        stdout=subprocess.DEVNULL,
    )


def _stop_load(load: subprocess.Popen[bytes], out: Path) -> list[dict[str, Any]]:
    load.send_signal(signal.SIGINT)
    load.wait(timeout=60)
    if CLIENT == "openload":
        return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    return _as_windows(json.loads(out.read_text())["records"])


def _as_windows(records: list[list[Any]], width: float = 0.25) -> list[dict[str, Any]]:
    """loadgen.py's records (wall-clock times) as openload's windows (monotonic)."""
    shift = time.monotonic() - time.time()
    windows: dict[int, dict[str, Any]] = {}
    for sent, done, status, _version, error in records:
        key = int((sent + shift) // width)
        w = windows.setdefault(key, {
            "start": key * width, "end": (key + 1) * width, "requests": 0, "errors": 0,
            "error_kinds": {}, "late": 0, "lat": new_histogram(), "slip": new_histogram(),
        })
        w["requests"] += 1
        if error is not None or status >= 500:
            w["errors"] += 1
            name = error or f"HTTP {status}"
            w["error_kinds"][name] = w["error_kinds"].get(name, 0) + 1
        else:
            w["lat"].record_value(max(1, round((done - sent) * 1e6)))
    out = []
    for key in sorted(windows):
        w = windows[key]
        w["latency"] = w.pop("lat").encode().decode()
        w["slip"] = w["slip"].encode().decode()
        out.append(w)
    return out


def _merged(windows: list[dict[str, Any]], key: str) -> HdrHistogram:
    merged = new_histogram()
    for w in windows:
        merged.add(HdrHistogram.decode(w[key].encode()))
    return merged


def _wait_started(out: Path, timeout: float = 30.0) -> None:
    """Until the load process has written its first window (it runs)."""
    if CLIENT == "httpx":  # writes only when it ends: give it its start-up
        time.sleep(1.0)
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if out.exists() and out.read_text().strip():
            return
        time.sleep(0.05)
    raise SystemExit("the load process wrote nothing")


def bench_kind(work: Path, kind: str, swaps: int, rate: float) -> dict[str, Any]:
    """Swaps and rollbacks of one kind under load; the figures of one row."""
    app_file, extra = KINDS[kind]
    site = Site(work, app_file, extra)
    site.swap("1.0.0")
    out = work / "load.jsonl"
    load = _start_load(f"{site.url}/monitoring/version", out, rate)
    swapping: list[tuple[float, float]] = []
    swap_s: list[float] = []
    try:
        _wait_started(out)
        time.sleep(3.0)  # steady state
        for i in range(swaps):
            start = time.monotonic()
            swap_s.append(site.swap("2.0.0" if i % 2 == 0 else "1.0.0"))
            swapping.append((start, time.monotonic()))
            time.sleep(1.0)
    finally:
        windows = _stop_load(load, out)
        site.stop()
    first = swapping[0][0]
    steady = [w for w in windows if w["end"] <= first]
    during = [w for w in windows if any(w["start"] < b and a < w["end"] for a, b in swapping)]
    requests = sum(w["requests"] for w in windows)
    errors: dict[str, int] = {}
    for w in windows:
        for name, count in w["error_kinds"].items():
            errors[name] = errors.get(name, 0) + count
    slip = _merged(windows, "slip")
    return {
        "requests": requests,
        "failed": sum(w["errors"] for w in windows),
        "failed_during_swaps": sum(w["errors"] for w in during),
        "errors": errors,
        "rate": requests / max(windows[-1]["end"] - windows[0]["start"], 1e-9),
        "late_pct": 100.0 * sum(w["late"] for w in windows) / max(requests, 1),
        "slip_p99_ms": slip.get_value_at_percentile(99) / 1000,
        "p99_steady_ms": _merged(steady, "latency").get_value_at_percentile(99) / 1000,
        "p99_swaps_ms": _merged(during, "latency").get_value_at_percentile(99) / 1000,
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
        if shutil.which("hey"):  # a client in Go: cheap enough not to be what is measured
            done = subprocess.run(
                ["hey", "-z", f"{seconds:g}s", "-c", "8", "-disable-keepalive", f"{site.url}/cpu"],
                capture_output=True, text=True, check=True,
            )
            return float(done.stdout.split("Requests/sec:", 1)[1].split()[0])
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
        print(f"{kind}_load_late: {row['late_pct']:.2f} % of requests left >10 ms late "
              f"(slip p99 {row['slip_p99_ms']:.1f} ms)")
        print(f"{kind}_failed: {row['failed']} of {row['requests']} requests {row['errors']}, "
              f"{row['failed_during_swaps']} of them sent while a swap ran")
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
    parser.add_argument("--client", choices=("openload", "httpx"), default="openload")
    parser.add_argument("--no-cpu", action="store_true", help="skip the workers 1 vs 2 figures")
    args = parser.parse_args()
    global CLIENT
    CLIENT = args.client
    kinds = [k for k in args.kinds.split(",") if k]
    if "node" in kinds and shutil.which("node") is None:
        kinds.remove("node")
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.hog else None
    try:
        print(f"swaps: {args.swaps} per kind (deploys and rollbacks alternating)")
        print(f"hog: {'yes' if hog else 'no'}")
        print(f"client: {args.client}")
        _each(kinds, lambda work, kind: bench_kind(work, kind, args.swaps, args.rate))
        for workers in () if args.no_cpu else (1, 2):
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
