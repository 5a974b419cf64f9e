"""An open-loop HTTP load generator: requests leave at a fixed rate whatever the server does.

Run it as a separate process so that it measures what a client would see::

    python benchmarks/loadgen.py --url http://127.0.0.1:8000/monitoring/version \
        --rate 200 --duration 5 --out load.json

It stops after ``--duration`` seconds or on SIGINT/SIGTERM (then waits for the requests in
flight), prints ``name: value unit`` lines and, with ``--out``, writes every request as
``[sent, done, status, version, error]`` (Unix times) so that a caller can tell which
version answered when. A request *fails* when it raises (reset, refused, timeout, a
connection closed without a response) or answers 5xx. The version is read from a JSON body's
``version`` key, else from the ``x-app-version`` header.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

Record = tuple[float, float, int, str | None, str | None]


@dataclass
class Run:
    """What one load run observed."""

    records: list[Record] = field(default_factory=list)

    @property
    def failed(self) -> list[Record]:
        return [r for r in self.records if r[4] is not None or r[2] >= 500]

    def summary(self) -> dict[str, object]:
        versions = Counter(r[3] for r in self.records if r[3] is not None)
        errors = Counter(r[4] or f"HTTP {r[2]}" for r in self.failed)
        latencies = sorted(r[1] - r[0] for r in self.records if r[4] is None)
        p99 = latencies[int(len(latencies) * 0.99)] if latencies else 0.0
        return {
            "requests": len(self.records),
            "failed": len(self.failed),
            "versions": dict(versions),
            "errors": dict(errors),
            "p99_ms": round(p99 * 1000, 1),
        }


def _version_of(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        body = None
    version = body.get("version") if isinstance(body, dict) else None
    if isinstance(version, str):
        return version
    header: str | None = response.headers.get("x-app-version")
    return header


async def _one(client: httpx.AsyncClient, url: str, run: Run, headers: dict[str, str]) -> None:
    sent = time.time()
    try:
        response = await client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        run.records.append((sent, time.time(), 0, None, type(exc).__name__))
        return
    run.records.append((sent, time.time(), response.status_code, _version_of(response), None))


async def generate(
    url: str, *, rate: float, duration: float, keepalive: bool = True, timeout: float = 5.0
) -> Run:
    """Send GET ``url`` at ``rate`` per second for ``duration`` seconds (or until SIGINT/TERM)."""
    run = Run()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    headers = {} if keepalive else {"connection": "close"}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200 if keepalive else 0)
    tasks: set[asyncio.Task[None]] = set()
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        start = loop.time()
        i = 0
        while not stop.is_set() and i < rate * duration:
            delay = start + i / rate - loop.time()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
            else:  # behind schedule: still let the requests in flight run
                await asyncio.sleep(0)
            if stop.is_set():
                break
            task = asyncio.create_task(_one(client, url, run, headers))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
        if tasks:
            await asyncio.wait(tasks)
    run.records.sort()
    return run


def main(argv: list[str] | None = None) -> int:
    """The command line; prints ``name: value unit`` lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds (upper bound)")
    parser.add_argument("--no-keepalive", action="store_true")
    parser.add_argument("--out", type=Path, help="write every request as JSON here")
    args = parser.parse_args(argv)
    run = asyncio.run(
        generate(args.url, rate=args.rate, duration=args.duration, keepalive=not args.no_keepalive)
    )
    summary = run.summary()
    if args.out:
        args.out.write_text(json.dumps({"summary": summary, "records": run.records}))
    print(f"requests: {summary['requests']} requests")
    print(f"failed: {summary['failed']} requests")
    print(f"p99: {summary['p99_ms']} ms")
    for version, count in sorted(summary["versions"].items()):  # type: ignore[attr-defined]
        print(f"version {version}: {count} requests")
    for error, count in sorted(summary["errors"].items()):  # type: ignore[attr-defined]
        print(f"error {error}: {count} requests")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
