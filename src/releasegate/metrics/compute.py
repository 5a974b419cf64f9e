"""``compute_metrics``: every figure of one project, environment and period, graded.

>>> with engine.connect() as conn:
...     report = compute_metrics(conn, project="shop", environment="production",
...                              since=now - timedelta(days=90), until=now,
...                              targets=config.metrics)
>>> report.to_json()["change_failure_rate"]
{'value': 0.04, 'unit': 'ratio', 'target': '< 10%', 'met': True, 'n': 52, ...}
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from pydantic import JsonValue
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import Select

from releasegate.config.records_models import MetricsSettings
from releasegate.errors import StoreError
from releasegate.metrics import queries as q
from releasegate.metrics.model import Metric, MetricsReport, grade
from releasegate.metrics.sql import percentiles, ranks, value_at

_WEEK_S = 7 * 86400.0
_MIN_WEEKS = 4
"""Deployment frequency is graded over four weeks at least: a week says little."""
_QUALITY = {
    "bug": "bugs",
    "security": "security_issues",
    "performance": "performance_regressions",
    "complaint": "customer_complaints",
}


def compute_metrics(
    conn: Connection | Engine,
    *,
    project: str | None,
    environment: str | None,
    since: datetime,
    until: datetime,
    targets: MetricsSettings | None = None,
    include_unlabelled: bool = False,
) -> MetricsReport:
    """Every metric of ``project`` (None: all) in ``environment`` (None: all) for runs that
    finished in ``[since, until)``, each graded against ``targets`` (defaults: the
    checklist's). ``include_unlabelled`` counts runs recorded without a project as
    ``project``'s (pass it for the config's own project). Read-only; one snapshot."""
    if since >= until:
        raise ValueError(f"the period is empty: {since.isoformat()} is not before {until.isoformat()}")
    settings = targets or MetricsSettings()
    scope = q.Scope(project, environment, since, until, include_unlabelled)
    try:
        if isinstance(conn, Engine):
            with conn.connect() as opened, opened.begin():
                _snapshot(opened)
                figures = _figures(opened, scope, settings)
        else:
            if conn.dialect.name == "postgresql":
                _tune(conn)
            figures = _figures(conn, scope, settings)
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise StoreError(f"cannot read the metrics: {detail}") from exc
    return MetricsReport(project, environment, since, until, settings.min_n, figures)


def _snapshot(conn: Connection) -> None:
    """Every query sees the same moment (SQLite's read transaction already does). And no
    JIT: the correlated subqueries make PostgreSQL's cost estimate large enough to JIT-
    compile, which took seconds where running the plan takes milliseconds."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        _tune(conn)


def _tune(conn: Connection) -> None:
    # the percentiles sort up to a million values: in memory, not in temporary files
    conn.exec_driver_sql("SET LOCAL jit = off")
    conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")


def _pcts(
    conn: Connection, values: Select[Any], *, walk: bool = False
) -> tuple[int, float | None, float | None, int]:
    """``(n, median, p90, NULLs)`` of the values: sorted in one statement, or (``walk``)
    counted, then each percentile read at its rank along the values' index."""
    if not walk:
        row = conn.execute(percentiles(values, 50, 90, dialect=conn.dialect.name)).one()
        return int(row.n or 0), row.p50, row.p90, int(row.total or 0) - int(row.n or 0)
    x = values.subquery("v").c[0]
    total, n = conn.execute(select(func.count(), func.count(x))).one()
    total, n = int(total or 0), int(n or 0)
    found: dict[int, float | None] = {50: None, 90: None}
    if n:
        for p, rank in ranks(n, 50, 90).items():
            found[p] = conn.execute(value_at(values, rank, n)).scalar()
    return n, found[50], found[90], total - n


def _figures(conn: Connection, scope: q.Scope, settings: MetricsSettings) -> dict[str, Metric]:
    targets, min_n = settings.parsed(), settings.min_n

    def g(name: str, value: float | None, n: int, extra: dict[str, JsonValue] | None = None,
          *, floor: int | None = None) -> Metric:
        return grade(name, value, n, target=targets.get(name), min_n=floor or min_n, extra=extra)

    # (kind, status, reached its deploy phase) → runs
    counts: Counter[tuple[str, str, int]] = Counter()
    for kind, status, n in conn.execute(q.outcome_counts(scope)):
        counts[(kind, status, int(status != "failed"))] += int(n)
    for kind, n in conn.execute(q.failures_deployed(scope)):
        counts[(kind, "failed", 0)] -= int(n)
        counts[(kind, "failed", 1)] += int(n)
    undone_later, bad_later = (int(v) for v in conn.execute(q.bad_later(scope)).one())
    change = [k for k in counts if k[0] in q.CHANGE_KINDS]
    attempts = sum(counts[k] for k in change)
    deployed = sum(counts[k] for k in change if k[2])
    succeeded = sum(counts[k] for k in change if k[1] == "succeeded")
    failed_runs = sum(counts[k] for k in change if k[2] and k[1] != "succeeded")
    rolled_back = sum(counts[k] for k in change if k[1] in ("rolled_back", "rollback_failed"))
    hotfixes = sum(counts[k] for k in change if k[2] and k[0] == "hotfix")
    rollback_runs = sum(v for k, v in counts.items() if k[0] == "rollback")

    weeks = (scope.until - scope.since).total_seconds() / _WEEK_S
    metrics: dict[str, Metric] = {}
    metrics["deployment_frequency"] = g(
        "deployment_frequency", succeeded / weeks if attempts else None,
        succeeded if weeks >= _MIN_WEEKS else 0,
        {"deployments": succeeded, "weeks": round(weeks, 2)}, floor=1,
    )
    walk = q.walks(scope)
    n, p50, p90, skewed = _pcts(conn, q.lead_times(scope), walk=walk)
    metrics["lead_time"] = g("lead_time", p50, n, {"p90": p90, "excluded_clock_skew": skewed})
    metrics["change_failure_rate"] = g(
        "change_failure_rate", _ratio(failed_runs + bad_later, deployed), deployed,
        {"failed": failed_runs + bad_later},
    )
    n, p50, p90, ongoing = _pcts(conn, q.recovery_seconds(scope))
    metrics["recovery_time"] = g("recovery_time", p50, n, {"p90": p90, "ongoing": ongoing})
    repaired, mean = conn.execute(q.incident_repairs(scope)).one()
    metrics["mttr"] = g("mttr", mean, int(repaired))
    metrics["rollback_rate"] = g(
        "rollback_rate", _ratio(rolled_back + undone_later, deployed), deployed,
        {"rolled_back": rolled_back + undone_later},
    )
    metrics["success_rate"] = g(
        "success_rate", _ratio(succeeded, attempts), attempts,
        {"succeeded": succeeded, "stopped_at_gates": attempts - deployed},
    )
    n, p50, p90, _ = _pcts(conn, q.durations(scope), walk=walk)
    metrics["deployment_duration"] = g("deployment_duration", p50, n, {"p90": p90})
    seconds, with_downtime = conn.execute(q.downtime(scope)).one()
    metrics["downtime"] = g(
        "downtime", float(seconds) if deployed else None, deployed,
        {"deployments_with_downtime": int(with_downtime)},
    )
    metrics["rework_rate"] = g(
        "rework_rate", _ratio(hotfixes + rollback_runs, deployed + rollback_runs),
        deployed + rollback_runs, {"hotfixes": hotfixes, "rollback_runs": rollback_runs},
    )
    percent = conn.execute(q.coverage(scope)).scalar()
    metrics["test_coverage"] = g(  # one measurement is a figure: n is 1 when there is one
        "test_coverage", None if percent is None else float(percent) / 100,
        0 if percent is None else 1, floor=1,
    )
    found: dict[str, int] = {kind: int(n) for kind, n in conn.execute(q.defect_counts(scope))}
    for kind, name in _QUALITY.items():
        total = int(found.get(kind, 0))
        metrics[name] = g(name, _ratio(total, deployed), deployed, {"total": total})
    return metrics


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None
