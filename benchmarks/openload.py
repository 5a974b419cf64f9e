"""An open-loop load process for the swap benchmarks that shows it keeps its rate.

    python benchmarks/openload.py --url http://127.0.0.1:8000/monitoring/version \
        --rate 200 --out load.jsonl [--window 0.25]

It runs releasegate's own open-loop generator (``releasegate.verify.openloop``: requests
leave on a fixed schedule, latency is measured from each request's *scheduled* time, so a
stalled server shows as latency and not as fewer requests, and each request's schedule
slip is measured) until SIGINT/SIGTERM, and writes one JSON line per window of
``--window`` seconds: its bounds (``time.monotonic()``, the same clock in every process
on Linux), requests, failures by kind, requests that left more than 10 ms late, and the
latency and slip histograms (HDR, base64). Unlike the probe's pool it never retries: a
request sent on a kept-alive connection the server closed is a failure, the race a swap
must not cause.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from pathlib import Path

from releasegate.verify.http1 import Origin, Pool, build_request
from releasegate.verify.openloop import OpenLoop, Prepared


class StrictPool(Pool):
    """The probe's pool without its one retry on a reused connection the server closed."""

    async def request(self, raw: bytes, *, head: bool = False) -> int:
        async with self._slots:
            conn, _ = await self._connect()
            return await self._exchange(conn, raw, head=head)


async def run(url: str, rate: float, window: float, out: Path, timeout: float) -> None:
    origin = Origin.of(url)
    path = url.split(origin.host_header, 1)[1] or "/"
    raw = build_request(Origin(origin.scheme, origin.host, origin.port, ""), "GET", path, headers={}, body=b"")
    loop = OpenLoop(StrictPool(origin, size=256), [Prepared(raw, frozenset())], rate=rate, timeout=timeout)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    loop.start()
    with out.open("w") as sink:
        while not stop.is_set():
            w = await loop.next_interval(window)
            sink.write(json.dumps({
                "start": w.start, "end": w.end, "requests": w.requests, "errors": w.errors,
                "error_kinds": dict(w.error_kinds), "late": w.late,
                "latency": w.latency.encode().decode(), "slip": w.slip.encode().decode(),
            }) + "\n")
            sink.flush()
    await loop.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--window", type=float, default=0.25)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(run(args.url, args.rate, args.window, args.out, args.timeout))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
