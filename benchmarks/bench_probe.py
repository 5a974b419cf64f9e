"""Benchmarks of the probe: accuracy, capacity on one core, and time to detect.

1. **Accuracy.** A local endpoint (its own process) sleeps a lognormal delay before each
   answer — median 50 ms, sigma 0.5, so p95 = 113.8 ms and p99 = 159.9 ms — and records
   what it drew. The probe runs at ``--rate`` for ``--seconds``, then ``hey`` at the same
   rate (``-c 10 -q rate/10``) against the same endpoint; each one's p50/p95/p99 is
   compared with the delays the server actually drew (the truth) and with the
   distribution's own percentiles.
2. **Capacity.** A server that answers at once runs on one core, the probe on the other
   (``sched_setaffinity``); the rate is stepped up and each step's schedule slip (share of
   requests that left more than 10 ms late) is measured. The highest rate with < 1 % slip
   is the probe's steady capacity on one core; ``hey -c 50`` (closed loop, as fast as it
   can) on the same core gives its throughput beside it.
3. **Time to detect.** A service good under the probe turns bad (half its answers 500) at
   a known moment; a stage with ``every: 5s`` and ``failures_allowed: 1`` on
   ``error_rate < 1%`` must decide "rollback" within 3 intervals of the first bad request.

Prints ``name: value unit`` lines. ``python benchmarks/bench_probe.py [--quick]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import json
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from releasegate.config.models import VerifyStage
from releasegate.drivers.api import Release, StepContext, load_registry
from releasegate.drivers.sources.probe import Probe, ProbeOptions, figures
from releasegate.drivers.targets.local import LocalOptions, LocalTarget
from releasegate.testing import make_context
from releasegate.verify.api import (
    Baseline,
    RegistrySources,
    StageProgress,
    StageSample,
    VerificationResult,
    run_stages,
)
from releasegate.verify.http1 import Origin, Pool, build_request
from releasegate.verify.openloop import OpenLoop, Prepared

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "camarketplace"
MU, SIGMA = math.log(50.0), 0.5  # milliseconds
Z = {50: 0.0, 95: 1.6448536, 99: 2.3263479}
THEORY = {q: math.exp(MU + SIGMA * z) for q, z in Z.items()}


# -- the endpoint (run as a separate process: ``bench_probe.py --serve MODE PORT``) ---------


class _Endpoint(asyncio.Protocol):
    """A minimal HTTP/1.1 server: ``lognormal`` sleeps, ``fast`` answers at once, ``switch``
    answers 500 to every other request once ``/__bad`` was called. ``/__stats`` returns the
    delays drawn since ``/__reset``."""

    mode = "fast"
    drawn: list[float] = []  # noqa: RUF012 - one process, one endpoint
    bad = False
    count = 0
    rng = random.Random(11)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            path = head.split(b" ", 2)[1].decode()
            self._answer(path)

    def _answer(self, path: str) -> None:
        cls = type(self)
        if path == "/__reset":
            cls.drawn = []
            return self._send(200, b"{}")
        if path == "/__stats":
            return self._send(200, json.dumps(cls.drawn).encode())
        if path == "/__bad":
            cls.bad = True
            return self._send(200, b"{}")
        cls.count += 1
        if cls.mode == "lognormal":
            delay = cls.rng.lognormvariate(MU, SIGMA)
            cls.drawn.append(delay)
            asyncio.get_running_loop().call_later(delay / 1000, self._send, 200, b"ok")
            return None
        status = 500 if cls.bad and cls.count % 2 == 0 else 200
        return self._send(status, b"ok")

    def _send(self, status: int, body: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n%s" % (status, len(body), body))


def serve(mode: str, port_file: str) -> None:
    _Endpoint.mode = mode

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Endpoint, "127.0.0.1", 0, backlog=1024)
        Path(port_file).write_text(str(server.sockets[0].getsockname()[1]))
        await asyncio.Event().wait()

    asyncio.run(main())


class Endpoint:
    """The endpoint process, pinned to ``core`` when given."""

    def __init__(self, mode: str, tmp: Path, core: int | None = None) -> None:
        port_file = tmp / f"port-{mode}"
        port_file.unlink(missing_ok=True)
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve", mode, str(port_file)])
        if core is not None:
            os.sched_setaffinity(self.proc.pid, {core})
        deadline = time.monotonic() + 20
        while not port_file.exists() or not port_file.read_text():
            if time.monotonic() > deadline:
                raise RuntimeError("the endpoint did not start")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{port_file.read_text()}"

    def get(self, path: str) -> object:
        return httpx.get(self.url + path, timeout=10).json()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


# -- measurements ------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def run_open_loop(url: str, rate: float, seconds: float) -> dict[str, float]:
    """The probe's open loop itself, past the ``rate`` bound its options set (5000/s)."""

    async def go() -> dict[str, float]:
        origin = Origin.of(url)
        request = Prepared(build_request(origin, "GET", "/", headers={}, body=b""), frozenset())
        loop = OpenLoop(Pool(origin, size=256), [request], rate=rate, timeout=30)
        window = await loop.next_interval(seconds)
        await loop.stop()
        sample = figures(window, rate=rate, max_slip=1.0, tolerance_ms=10, timeout_ms=30000)
        return dict(sample.values)

    return asyncio.run(go())


def run_probe(url: str, rate: float, seconds: float) -> dict[str, float]:
    async def go() -> dict[str, float]:
        probe = Probe()
        try:
            sample = await probe.sample(ProbeOptions(rate=rate, timeout="30s"), make_context(url=url), seconds=seconds)  # type: ignore[arg-type]
            return dict(sample.values)
        finally:
            await probe.close()

    return asyncio.run(go())


def run_hey(url: str, *args: str) -> list[tuple[float, int]]:
    """hey's per-request (latency ms, status)."""
    out = subprocess.run(["hey", *args, "-o", "csv", url], capture_output=True, text=True, check=True).stdout
    rows = csv.DictReader(io.StringIO(out))
    return [(float(r["response-time"]) * 1000, int(r["status-code"])) for r in rows]


def accuracy(tmp: Path, rate: float, seconds: float) -> None:
    endpoint = Endpoint("lognormal", tmp)
    try:
        print(f"accuracy_truth_distribution: p50 {THEORY[50]:.1f} p95 {THEORY[95]:.1f} p99 {THEORY[99]:.1f} ms")
        endpoint.get("/__reset")
        found = run_probe(endpoint.url + "/", rate, seconds)
        drawn = [float(v) for v in endpoint.get("/__stats")]  # type: ignore[union-attr]
        truth = {q: percentile(drawn, q) for q in (50, 95, 99)}
        print(f"accuracy_requests: probe {found['requests']:.0f} drawn {len(drawn)}")
        for q in (50, 95, 99):
            got = found[f"p{q}"]
            print(f"accuracy_probe_p{q}: {got:.1f} ms (drawn {truth[q]:.1f}: {100 * (got - truth[q]) / truth[q]:+.1f} %; "
                  f"distribution {THEORY[q]:.1f}: {100 * (got - THEORY[q]) / THEORY[q]:+.1f} %)")  # fmt: skip
        print(f"accuracy_probe_slip: {found['slip']:.2f} % (slip p99 {found['slip_p99']:.1f} ms)")
        if shutil.which("hey") is None:
            print("accuracy_hey: skipped (hey is not installed: apt-get install -y hey)")
            return
        endpoint.get("/__reset")
        workers = 10
        results = run_hey(endpoint.url + "/", "-z", f"{seconds:g}s", "-c", str(workers), "-q", f"{rate / workers:g}")
        drawn = [float(v) for v in endpoint.get("/__stats")]  # type: ignore[union-attr]
        latencies = [ms for ms, _ in results]
        print(f"accuracy_hey_requests: {len(latencies)} (drawn {len(drawn)})")
        for q in (50, 95, 99):
            got, real = percentile(latencies, q), percentile(drawn, q)
            print(f"accuracy_hey_p{q}: {got:.1f} ms (drawn {real:.1f}: {100 * (got - real) / real:+.1f} %; "
                  f"distribution {THEORY[q]:.1f}: {100 * (got - THEORY[q]) / THEORY[q]:+.1f} %)")  # fmt: skip
    finally:
        endpoint.stop()


def capacity(tmp: Path, rates: list[int], seconds: float) -> None:
    cores = sorted(os.sched_getaffinity(0))
    probe_core, server_core = cores[0], cores[-1]
    endpoint = Endpoint("fast", tmp, core=server_core)
    mine = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {probe_core})
    best = 0
    try:
        for rate in rates:
            # Other processes share the machine: a step gets three tries, the best counts.
            tries = [run_open_loop(endpoint.url + "/", rate, seconds)]
            while len(tries) < 3 and (tries[-1]["slip"] >= 1.0 or tries[-1]["error_rate"] > 0):
                tries.append(run_open_loop(endpoint.url + "/", rate, seconds))
            found = min(tries, key=lambda f: (f["error_rate"], f["slip"]))
            print(f"capacity_probe_{rate}: slip {found['slip']:.2f} % slip_p99 {found['slip_p99']:.1f} ms "
                  f"requests {found['requests']:.0f} p99 {found.get('p99', float('nan')):.1f} ms "
                  f"errors {found['error_rate']:.2f} % (best of {len(tries)})")  # fmt: skip
            if found["slip"] < 1.0 and found["error_rate"] == 0:
                best = rate
            else:
                break
        print(f"capacity_probe_one_core: {best} requests/s with < 1 % schedule slip")
        if shutil.which("hey"):
            results = run_hey(endpoint.url + "/", "-z", f"{seconds:g}s", "-c", "50")
            print(f"capacity_hey_one_core: {len(results) / seconds:.0f} requests/s (closed loop, 50 workers)")
    finally:
        os.sched_setaffinity(0, mine)
        endpoint.stop()


def detection(tmp: Path, every: float) -> None:
    endpoint = Endpoint("switch", tmp)
    try:
        stage = VerifyStage.model_validate({
            "stage": "immediate", "for": every * 12, "every": every, "failures_allowed": 1,
            "check": {"error_rate": "< 1%"}, "with": {"rate": 20},
        })  # fmt: skip
        turned: list[float] = []
        pending: list[asyncio.Future[None]] = []

        def turn_bad(p: StageProgress) -> None:
            if p.done == 2 and not turned:
                # mid-interval, so the first bad interval is a partial one
                async def later() -> None:
                    await asyncio.sleep(every / 2)
                    await asyncio.to_thread(endpoint.get, "/__bad")
                    turned.append(time.monotonic())

                pending.append(asyncio.ensure_future(later()))

        sources = RegistrySources(load_registry(), make_context(url=endpoint.url))
        result = asyncio.run(run_stages([stage], sources=sources, baseline=None, on_progress=turn_bad))
        took = time.monotonic() - turned[0]
        print(f"detect_first_bad_to_decision: {took:.1f} s = {took / every:.2f} intervals of {every:g} s "
              f"(action {result.action}; library's detection_s {result.detection_s:.1f} s)")  # fmt: skip
        print(f"detect_reason: {result.reason}")
    finally:
        endpoint.stop()


def detection_example(tmp: Path, every: float) -> None:
    """1.2.0 of the example under the probe, then 1.2.1 swapped in by the local target."""
    shutil.copytree(EXAMPLE, tmp / "app", ignore=shutil.ignore_patterns(".releasegate", "data"))
    env = {"CAMARKETPLACE_APP_DIR": str(tmp / "app" / "app"), "CAMARKETPLACE_DATA_DIR": str(tmp / "data")}
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    number = port.getsockname()[1]
    port.close()
    options = LocalOptions.model_validate({"app": "app", "port": number, "env": env, "asgi": "camarketplace.app:app",
                                           "state_dir": "state", "quiesce": "1s", "drain_timeout": "10s"})  # fmt: skip
    target = LocalTarget()

    def ctx(version: str) -> StepContext:
        return make_context(release=Release("bench", version), workdir=tmp, url=f"http://127.0.0.1:{number}")

    assert asyncio.run(target.deploy(options, ctx("1.2.0"))).ok
    try:
        probe = {"rate": 20, "requests": [{"path": "/monitoring/version"}]}
        checks = {"error_rate": "< 1%", "p95": "< 2x baseline"}
        sources = RegistrySources(load_registry(), ctx("1.2.0"))
        before = VerifyStage.model_validate({"stage": "baseline", "for": every * 3, "every": every, "with": probe})
        kept: list[StageSample] = []
        asyncio.run(run_stages([before], sources=sources, baseline=None, on_sample=kept.append))
        baseline = Baseline.from_samples(kept, version="1.2.0")
        figure = baseline.figure("p95")
        print(f"detect_example_baseline_p95: {figure.value if figure else float('nan'):.1f} ms (1.2.0)")
        stage = VerifyStage.model_validate({"stage": "immediate", "for": every * 12, "every": every,
                                            "failures_allowed": 1, "check": checks, "with": probe})  # fmt: skip
        first_bad: list[float] = []

        async def swap_later() -> None:
            await asyncio.sleep(every * 2.5)
            result = await target.rollback(options, ctx("1.2.1"), "1.2.1")
            assert result.ok, result.summary

        async def watch() -> None:
            # the first moment 1.2.1 answers: the first bad request the probe can meet
            async with httpx.AsyncClient(timeout=5) as client:
                while not first_bad:
                    with contextlib.suppress(httpx.HTTPError):
                        answer = await client.get(f"http://127.0.0.1:{number}/monitoring/version")
                        if answer.json().get("version") == "1.2.1":
                            first_bad.append(time.monotonic())
                    await asyncio.sleep(0.02)

        async def go() -> tuple[VerificationResult, float]:
            helpers = asyncio.gather(swap_later(), watch())
            try:
                found = await run_stages([stage], sources=sources, baseline=baseline)
                return found, time.monotonic()
            finally:
                await helpers

        result, decided = asyncio.run(go())
        took = decided - first_bad[0]
        print(f"detect_example_first_bad_to_decision: {took:.1f} s = {took / every:.2f} intervals of {every:g} s "
              f"(action {result.action})")  # fmt: skip
        print(f"detect_example_reason: {result.reason}")
    finally:
        asyncio.run(target.stop(options, ctx("-")))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--serve", nargs=2, metavar=("MODE", "PORT_FILE"))
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test of the bench)")
    parser.add_argument("--rate", type=float, default=100)
    args = parser.parse_args(argv)
    if args.serve:
        serve(*args.serve)
        return 0
    print("machine_load_average: {:.2f} {:.2f} {:.2f} on {} cores".format(*os.getloadavg(), os.cpu_count()))
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-probe-{os.getpid()}"
    tmp.mkdir(parents=True, exist_ok=True)
    seconds = 5.0 if args.quick else 30.0
    accuracy(tmp, args.rate, seconds)
    capacity(tmp, [1000, 2000, 4000, 6000, 8000, 10000, 12000, 14000, 16000, 20000], 2.0 if args.quick else 5.0)
    detection(tmp, 1.0 if args.quick else 5.0)
    detection_example(tmp, 2.0 if args.quick else 5.0)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
