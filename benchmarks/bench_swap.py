"""Zero-downtime benchmark of the ``local`` target, against a naive swap, in one run.

Under a fixed-rate open-loop load (``benchmarks/loadgen.py`` in a separate process, 200
requests/s by default) it counts failed or reset requests during N swaps with the local
target (zero-downtime: shared socket, health check, quiesce, drain), then during N naive
swaps of the same app (stop the old uvicorn, start the new one binding the port anew). It
also times, for each local swap, "swap decided" → "the new version serves all traffic"
(the last response from the old version); a rollback is such a swap, so its worst case is
the rollback figure (target < 5 s). Prints ``name: value unit`` lines.

    python benchmarks/bench_swap.py [--swaps 6] [--rate 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from releasegate.drivers.api import Release
from releasegate.drivers.targets.local import LocalOptions, LocalTarget
from releasegate.testing import make_context

HERE = Path(__file__).resolve().parent
APP = HERE.parent / "tests" / "drivers" / "local_app" / "app.py"
EXAMPLE = HERE.parent / "examples" / "camarketplace"


@dataclass(frozen=True)
class Subject:
    """The app under test: its two versions, what serves it and its environment."""

    versions: tuple[str, str]
    asgi: str
    env: dict[str, str]


def _tiny_app(work: Path) -> Subject:
    for version in ("1.0.0", "2.0.0"):
        (work / "app" / "versions" / version).mkdir(parents=True)
        shutil.copy(APP, work / "app" / "versions" / version / "app.py")
    return Subject(("1.0.0", "2.0.0"), "app:app", {"APP_VERSION": "{version}"})


def _example(work: Path) -> Subject:
    shutil.copytree(EXAMPLE, work / "app", ignore=shutil.ignore_patterns(".releasegate", "data"))
    env = {
        "CAMARKETPLACE_APP_DIR": str(work / "app" / "app"),
        "CAMARKETPLACE_DATA_DIR": str(work / "data"),
    }
    return Subject(("1.1.5", "1.2.0"), "camarketplace.app:app", env)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_load(url: str, out: Path, rate: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            str(HERE / "loadgen.py"),
            "--url",
            url,
            "--rate",
            str(rate),
            "--duration",
            "3600",
            "--out",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
    )


def _stop_load(load: subprocess.Popen[bytes], out: Path) -> dict[str, Any]:
    load.send_signal(signal.SIGINT)
    load.wait(timeout=60)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def _cutover(records: list[list[Any]], decided: float, until: float, old: str) -> float:
    """Seconds from ``decided`` to the last response from ``old`` before the next swap."""
    done = [r[1] for r in records if r[3] == old and decided <= r[1] < until]
    return max(done, default=decided) - decided


def bench_local(
    work: Path, subject: Subject, swaps: int, rate: float, quiesce: str = "1s"
) -> dict[str, Any]:
    port = _free_port()
    versions = subject.versions
    options = LocalOptions.model_validate(
        {
            "app": "app",
            "port": port,
            "env": subject.env,
            "asgi": subject.asgi,
            "state_dir": "state",
            "quiesce": quiesce,
            "drain_timeout": "10s",
        }
    )
    target = LocalTarget()

    def ctx(version: str) -> Any:
        return make_context(release=Release("bench", version), workdir=work)

    assert asyncio.run(target.deploy(options, ctx(versions[0]))).ok
    out = work / "load-local.json"
    load = _start_load(f"http://127.0.0.1:{port}/monitoring/version", out, rate)
    decided: list[tuple[float, str]] = []
    try:
        time.sleep(1.0)
        for i in range(1, swaps + 1):
            old, new = versions[(i - 1) % 2], versions[i % 2]
            decided.append((time.time(), old))
            result = asyncio.run(target.rollback(options, ctx(new), new))
            if not result.ok:
                raise SystemExit(f"swap to {new} failed: {result.summary}")
            time.sleep(0.5)
        time.sleep(1.0)
    finally:
        result_load = _stop_load(load, out)
        asyncio.run(target.stop(options, ctx("-")))
    ends = [t for t, _ in decided[1:]] + [float("inf")]
    if os.environ.get("BENCH_DEBUG"):
        (HERE / "debug-local.json").write_text(json.dumps({"decided": decided, **result_load}))
    cutovers = [
        _cutover(result_load["records"], t, end, old)
        for (t, old), end in zip(decided, ends, strict=True)
    ]
    return {
        **result_load["summary"],
        "cutover_max_s": max(cutovers),
        "cutover_mean_s": sum(cutovers) / len(cutovers),
    }


def _wait_up(url: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.HTTPError:
            time.sleep(0.02)
    raise SystemExit(f"{url} did not come up")


def bench_naive(work: Path, subject: Subject, swaps: int, rate: float) -> dict[str, Any]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/monitoring/version"

    def start(version: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                subject.asgi,
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=work / "app" / "versions" / version,
            env={
                **os.environ,
                **{k: v.replace("{version}", version) for k, v in subject.env.items()},
            },
        )

    versions = subject.versions
    server = start(versions[0])
    _wait_up(url)
    out = work / "load-naive.json"
    load = _start_load(url, out, rate)
    try:
        time.sleep(1.0)
        for i in range(1, swaps + 1):
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            server = start(versions[i % 2])
            _wait_up(url)
            time.sleep(0.5)
        time.sleep(1.0)
    finally:
        result = _stop_load(load, out)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    summary: dict[str, Any] = result["summary"]
    return summary


def main() -> int:
    """Run both benchmarks and print ``name: value unit`` lines."""
    parser = argparse.ArgumentParser(description="local target swap benchmark")
    parser.add_argument("--swaps", type=int, default=6)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--quiesce", default="1s", help="the local target's quiesce time")
    parser.add_argument(
        "--example",
        action="store_true",
        help="swap examples/camarketplace 1.1.5 <-> 1.2.0 (else a tiny app)",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rg-bench-"))
    try:
        subject = _example(work) if args.example else _tiny_app(work)
        local = bench_local(work, subject, args.swaps, args.rate, args.quiesce)
        naive = bench_naive(work, subject, args.swaps, args.rate)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"app: {'examples/camarketplace' if args.example else 'tests/drivers/local_app'}")
    print(f"swaps: {args.swaps} swaps")
    print(f"quiesce: {args.quiesce}")
    print(f"load_rate: {args.rate:g} requests/s")
    print(f"local_requests: {local['requests']} requests")
    print(f"local_failed: {local['failed']} requests")
    print(f"local_p99: {local['p99_ms']} ms")
    print(f"rollback_to_old_serving_all_max: {local['cutover_max_s']:.2f} s")
    print(f"rollback_to_old_serving_all_mean: {local['cutover_mean_s']:.2f} s")
    print(f"naive_requests: {naive['requests']} requests")
    print(f"naive_failed: {naive['failed']} requests")
    print(f"naive_p99: {naive['p99_ms']} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
