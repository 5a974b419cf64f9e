"""Watch the freshly released version: its log, its own metrics and the machine.

    python scripts/monitor_check.py --logs .releasegate/local/staging/logs [thresholds]

Run by releasegate right after the smoke tests, against the environment's URL
(RELEASEGATE_URL) and the version just released (RELEASEGATE_VERSION). It checks:

* the application log of this version (``<logs>/<version>.log``, written by the ``local``
  target since the version started): no ``ERROR``/``CRITICAL`` line and no traceback;
* the app's own ``/metrics`` (Prometheus): server errors (5xx) < ``--error-rate-max`` % of
  requests, and p95 response time < ``--p95-max-ms`` (from the latency histogram; the
  ``/metrics`` route itself is left out);
* CPU used by the app's processes (found by their ``CAMARKETPLACE_DATA_DIR``, sampled over
  a second) < ``--cpu-max`` % of the machine, and the machine's memory used < ``--mem-max`` %.

One line per check; exit 1 when any fails.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections import defaultdict
from pathlib import Path

from _http import get
from check_resources import Report, app_cpu_percent, memory_used_percent

_BAD_LINE = re.compile(r"^(ERROR|CRITICAL)[: ]|Traceback \(most recent call last\)")
_SAMPLE = re.compile(r'^(\w+)\{([^}]*)\}\s+([0-9.eE+-]+|\+Inf|NaN)$')


def log_problems(log: Path, limit: int = 5) -> list[str]:
    """The first ``limit`` error lines of the log."""
    found = []
    with log.open(encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            if _BAD_LINE.search(line):
                found.append(f"{log.name}:{number}: {line.strip()[:160]}")
                if len(found) >= limit:
                    break
    return found


def parse_metrics(text: str) -> tuple[float, float, dict[float, float], float]:
    """(requests, 5xx requests, histogram buckets le → count, histogram count)."""
    total = errors = count = 0.0
    buckets: dict[float, float] = defaultdict(float)
    for line in text.splitlines():
        match = _SAMPLE.match(line.strip())
        if not match:
            continue
        name, labels, value = match.group(1), dict(re.findall(r'(\w+)="([^"]*)"', match.group(2))), float(match.group(3))
        if labels.get("path") == "/metrics":
            continue
        if name == "camarketplace_http_requests_total":
            total += value
            errors += value if labels.get("status", "").startswith("5") else 0
        elif name == "camarketplace_http_request_duration_seconds_bucket":
            buckets[float(labels["le"])] += value
        elif name == "camarketplace_http_request_duration_seconds_count":
            count += value
    return total, errors, dict(buckets), count


def p95_upper_bound(buckets: dict[float, float], count: float) -> float:
    """The upper bound (seconds) of the bucket holding the 95th percentile."""
    for le in sorted(buckets):
        if buckets[le] >= 0.95 * count:
            return le
    return float("inf")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--logs", required=True, type=Path, help="The target's log directory.")
    parser.add_argument("--data-dir", required=True, type=Path, help="The app's data directory.")
    parser.add_argument("--url", default=os.environ.get("RELEASEGATE_URL", ""))
    parser.add_argument("--version", default=os.environ.get("RELEASEGATE_VERSION", ""))
    parser.add_argument("--error-rate-max", type=float, default=1.0)
    parser.add_argument("--p95-max-ms", type=float, default=500)
    parser.add_argument("--cpu-max", type=float, default=70)
    parser.add_argument("--mem-max", type=float, default=80)
    args = parser.parse_args(argv)
    report = Report()

    log = args.logs / f"{args.version}.log"
    if not log.is_file():
        report.line(False, f"no application log {log}")
    else:
        problems = log_problems(log)
        report.line(not problems, f"application log {log.name}: "
                    + ("; ".join(problems) if problems else "no errors, no tracebacks"))

    try:
        status, body, _ = get(args.url.rstrip("/") + "/metrics")
    except OSError as exc:
        report.line(False, f"{args.url}/metrics: {getattr(exc, 'reason', exc)}")
    else:
        if status != 200:
            report.line(False, f"/metrics: status {status}")
        else:
            total, errors, buckets, count = parse_metrics(body)
            rate = 100.0 * errors / total if total else 0.0
            report.line(rate < args.error_rate_max,
                        f"error rate {rate:.2f}% ({errors:.0f} of {total:.0f} requests answered 5xx; < {args.error_rate_max:g}%)")
            p95 = p95_upper_bound(buckets, count) * 1000
            report.line(p95 <= args.p95_max_ms or count == 0,
                        f"p95 response time <= {p95:g} ms over {count:.0f} requests (< {args.p95_max_ms:g} ms)")
    cpu, count = app_cpu_percent(args.data_dir)
    report.line(count > 0 and cpu < args.cpu_max,
                f"app CPU {cpu:.0f}% over {count} processes (< {args.cpu_max:g}%)")
    mem, _ = memory_used_percent()
    report.line(mem < args.mem_max, f"memory {mem:.0f}% (< {args.mem_max:g}%)")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
