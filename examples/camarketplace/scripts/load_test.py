"""A short load test of a running environment (major releases, before production).

    python scripts/load_test.py --url http://127.0.0.1:8101 --data-dir data/staging \
        --rate 50 --duration 20 --p95-max-ms 500

An open-loop client sends ``--rate`` requests a second for ``--duration`` seconds, mixing
``/monitoring/health``, ``/monitoring/health/db`` and an authenticated ``/api/auth/me``. It passes when no request fails, p95 latency is under the
budget, and the app's processes (found by their ``CAMARKETPLACE_DATA_DIR``) did not grow by
more than ``--rss-growth-max-mb`` (a leak shows up as steady growth under load).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import urllib.request
from pathlib import Path

from check_resources import Report, app_processes

DEMO_LOGIN = {"email": "demo@camarketplace.test", "password": "demo-pass-123"}  # pragma: allowlist secret


def app_rss_mb(data_dir: Path) -> float:
    """Resident memory of the processes serving the environment whose data is ``data_dir``."""
    total = 0
    for proc in app_processes(data_dir):
        try:
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def login(base: str) -> str:
    req = urllib.request.Request(f"{base}/api/auth/login", data=json.dumps(DEMO_LOGIN).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return str(json.load(resp)["token"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--p95-max-ms", type=float, default=500)
    parser.add_argument("--rss-growth-max-mb", type=float, default=50)
    args = parser.parse_args(argv)
    base = args.url.rstrip("/")
    token = login(base)
    auth = {"Authorization": f"Bearer {token}"}
    paths = [("/monitoring/health", {}), ("/api/auth/me", auth), ("/monitoring/health/db", {})]
    rss_before = app_rss_mb(args.data_dir)
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        path, headers = paths[i % len(paths)]
        start = time.perf_counter()
        try:
            req = urllib.request.Request(base + path, headers=headers)
            with urllib.request.urlopen(req, timeout=10) as resp:
                resp.read()
            ok = True
        except (OSError, ValueError) as exc:
            ok, why = False, f"{path}: {exc}"
        with lock:
            latencies.append(time.perf_counter() - start)
            if not ok:
                failures.append(why)

    threads = []
    start, n = time.monotonic(), int(args.rate * args.duration)
    for i in range(n):
        time.sleep(max(0.0, start + i / args.rate - time.monotonic()))
        thread = threading.Thread(target=one, args=(i,), daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(15)
    rss_after = app_rss_mb(args.data_dir)
    report = Report()
    report.line(not failures, f"{n} requests at {args.rate:g}/s: {len(failures)} failed"
                + (f" (first: {failures[0]})" if failures else ""))
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))] * 1000 if latencies else 0.0
    report.line(p95 < args.p95_max_ms, f"p95 {p95:.0f} ms (< {args.p95_max_ms:g} ms)")
    growth = rss_after - rss_before
    report.line(rss_before > 0 and growth < args.rss_growth_max_mb,
                f"app memory {rss_before:.0f} → {rss_after:.0f} MiB (growth < {args.rss_growth_max_mb:g} MiB)"
                if rss_before else f"no app process found for {args.data_dir}")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
