"""Time ``compute_metrics`` on an existing store, to compare two versions of the code on
the same rows under the same load (run it alternately with each on ``PYTHONPATH``).

Run: ``PYTHONPATH=CODE/src .venv/bin/python benchmarks/bench_metrics_ab.py URL LABEL`` on a
store that ``bench_metrics.py``'s rows were loaded into. Prints, for one project × 90 days
and for everything × 5 years, the best of 3: wall time and this process's CPU time (on
SQLite the queries run in this process; on PostgreSQL only the wall time counts them),
and a few figures, which must be the same for both versions.
"""

from __future__ import annotations

import resource
import sys
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine

from releasegate.metrics.compute import compute_metrics

END = datetime(2026, 11, 30, tzinfo=UTC)
START = END - timedelta(days=5 * 365)


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def main() -> None:
    url, label = sys.argv[1], sys.argv[2]
    engine = create_engine(url)
    for name, project, since in (("one_project_90d", "p07", END - timedelta(days=90)),
                                 ("everything_5y", None, START)):
        best: tuple[float, float] | None = None
        for _ in range(3):
            started, cpu = time.perf_counter(), _cpu()
            report = compute_metrics(engine, project=project, environment=None, since=since, until=END)
            took = ((time.perf_counter() - started) * 1000, (_cpu() - cpu) * 1000)
            best = took if best is None or took < best else best
        assert best is not None
        m = report.metrics
        print(f"{label} {name}: wall {best[0]:.0f} ms, cpu {best[1]:.0f} ms; "
              f"lead p50 {m['lead_time'].value} cfr {m['change_failure_rate'].value} "
              f"recovery p50 {m['recovery_time'].value}")
    engine.dispose()


if __name__ == "__main__":
    main()
