"""Rolling deploys of the ``ssh`` target behind HAProxy, under open-loop load, in one run.

Real hosts as the tests make them (``tests/support/sshd.py``: sshd on 127.0.0.2, .3, ...,
the local target's supervisor on each) and a real HAProxy in front (``tests/support/
haproxy.py``: round robin, health checks every 300 ms, ``retries 3`` and ``option
redispatch``). For each fleet size and batch: deploy 1.0.0, start ``benchmarks/loadgen.py``
through HAProxy (200 requests/s, keep-alive, a separate process), roll to 2.0.0, stop the
load; then, on the same fleet and under the same load, a *naive stop-start* per host (the
app stopped on the host, then the other version started, no drain). Prints ``name: value
unit`` lines: failed requests, wall time, per-host swap time (the local swap on the host)
and per-host time (drain, swap, checks, ready).

    PYTHONPATH=src python benchmarks/bench_rolling.py [--sizes 3,9] [--batches 1,3] [--rate 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests.support: the same hosts and HAProxy as the tests

from tests.support.haproxy import running_haproxy  # noqa: E402
from tests.support.sshd import Fleet, fleet  # noqa: E402

from releasegate.drivers.api import Release  # noqa: E402
from releasegate.drivers.targets.ssh import SshTarget  # noqa: E402
from releasegate.drivers.targets.ssh_hosts import host_runs  # noqa: E402
from releasegate.drivers.targets.ssh_options import SshOptions  # noqa: E402
from releasegate.drivers.targets.ssh_transport import call_agent  # noqa: E402
from releasegate.testing import make_context  # noqa: E402

APP = HERE.parent / "tests" / "drivers" / "local_app" / "app.py"


def _load(url: str, out: Path, rate: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(HERE / "loadgen.py"), "--url", url, "--rate", str(rate),
         "--duration", "3600", "--out", str(out)],
        stdout=subprocess.DEVNULL,
    )


def _stop(load: subprocess.Popen[bytes], out: Path) -> dict[str, Any]:
    load.send_signal(signal.SIGINT)
    load.wait(timeout=60)
    summary: dict[str, Any] = json.loads(out.read_text())["summary"]
    return summary


def _rolling(work: Path, group: Fleet, lb_options: dict[str, str], url: str, batch: int,
             rate: float) -> dict[str, Any]:
    options = SshOptions.model_validate(
        group.options(batch=batch, balancer={"uses": "haproxy", "with": lb_options})
    )
    ctx = make_context(release=Release("bench", "2.0.0"), workdir=work)
    out = work / f"load-rolling-{len(group.hosts)}-{batch}.json"
    load = _load(url, out, rate)
    try:
        time.sleep(1.0)
        t0 = time.monotonic()
        result = asyncio.run(SshTarget().deploy(options, ctx))
        wall = time.monotonic() - t0
        time.sleep(1.0)
    finally:
        summary = _stop(load, out)
    if not result.ok:
        raise SystemExit(f"the rolling deploy failed: {result.summary}")
    hosts = result.evidence["hosts"]
    assert isinstance(hosts, list)
    swaps = [float(h["swap_s"]) for h in hosts if isinstance(h, dict)]  # type: ignore[arg-type]
    per_host = [float(h["host_s"]) for h in hosts if isinstance(h, dict)]  # type: ignore[arg-type]
    return {**summary, "wall_s": wall, "swap_mean_s": statistics.mean(swaps),
            "swap_max_s": max(swaps), "host_mean_s": statistics.mean(per_host),
            "host_max_s": max(per_host)}


def _naive(work: Path, group: Fleet, url: str, rate: float) -> dict[str, Any]:
    """Per host: stop the app, start version 1.0.0 again; no drain, HAProxy finds out."""
    options = SshOptions.model_validate(group.options())
    ctx = make_context(release=Release("bench", "1.0.0"), workdir=work)
    hosts = host_runs(options, ctx)
    out = work / f"load-naive-{len(group.hosts)}.json"
    load = _load(url, out, rate)
    try:
        time.sleep(1.0)
        t0 = time.monotonic()
        for host in hosts:
            base = {"dir": host.dir, "environment": "bench", "app": host.app}
            asyncio.run(call_agent(host.endpoint, {**base, "op": "stop", "version": "-"}, timeout=120))
            asyncio.run(call_agent(host.endpoint, {**base, "op": "swap", "version": "1.0.0"}, timeout=120))
        wall = time.monotonic() - t0
        time.sleep(1.0)
    finally:
        summary = _stop(load, out)
    return {**summary, "wall_s": wall}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="3,9")
    parser.add_argument("--batches", default="1,3")
    parser.add_argument("--rate", type=float, default=200.0)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="rg-bench-roll-"))
    try:
        work = root / "work"
        for version in ("1.0.0", "2.0.0"):
            (work / "versions" / version).mkdir(parents=True)
            shutil.copy(APP, work / "versions" / version / "app.py")
        print(f"load_rate: {args.rate:g} requests/s")
        print(f"loadavg_start: {os.getloadavg()[0]:.1f}")
        for size in (int(s) for s in args.sizes.split(",")):
            for batch in (int(b) for b in args.batches.split(",")):
                with fleet(root / f"fleet-{size}-{batch}", size) as group:
                    first = SshOptions.model_validate(group.options())
                    ctx = make_context(release=Release("bench", "1.0.0"), workdir=work)
                    if not asyncio.run(SshTarget().deploy(first, ctx)).ok:
                        raise SystemExit("the first deploy failed")
                    servers = [(h.name, h.address, group.app_port) for h in group.hosts]
                    home = root / f"lb-{size}-{batch}"
                    home.mkdir()
                    with running_haproxy(servers, home) as lb:
                        url = lb.url + "/monitoring/version"
                        cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                        rolled = _rolling(work, group, lb.options(), url, batch, args.rate)
                        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                        tag = f"hosts{size}_batch{batch}"
                        print(f"{tag}_requests: {rolled['requests']} requests")
                        print(f"{tag}_failed: {rolled['failed']} requests")
                        print(f"{tag}_wall: {rolled['wall_s']:.1f} s")
                        print(f"{tag}_swap_mean: {rolled['swap_mean_s']:.2f} s")
                        print(f"{tag}_swap_max: {rolled['swap_max_s']:.2f} s")
                        print(f"{tag}_host_mean: {rolled['host_mean_s']:.2f} s")
                        print(f"{tag}_host_max: {rolled['host_max_s']:.2f} s")
                        print(f"{tag}_p99: {rolled['p99_ms']} ms")
                        achieved = rolled["requests"] / (rolled["wall_s"] + 2.0)
                        print(f"{tag}_achieved_rate: {achieved:.0f} requests/s")
                        print(f"{tag}_children_cpu: {cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime:.1f} s")
                        if batch == 1:
                            naive = _naive(work, group, url, args.rate)
                            print(f"hosts{size}_naive_requests: {naive['requests']} requests")
                            print(f"hosts{size}_naive_failed: {naive['failed']} requests")
                            print(f"hosts{size}_naive_wall: {naive['wall_s']:.1f} s")
                            print(f"hosts{size}_naive_errors: {naive['errors']}")
                        sys.stdout.flush()
        print(f"loadavg_end: {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
