"""The series the report charts, read with the same SQL as the figures."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import median

from sqlalchemy import Connection, select

from releasegate.metrics import queries as q
from releasegate.metrics.sql import seconds_between

OUTCOMES = ("succeeded", "failed", "rolled back", "stopped at gates", "rollback run")


@dataclass
class Series:
    """Per-week series (weeks start on Monday, UTC) and the lead-time sample."""

    weeks: list[date] = field(default_factory=list)
    outcomes: dict[str, list[int]] = field(default_factory=dict)
    change_failure_rate: list[float | None] = field(default_factory=list)
    recovery_median_s: list[float | None] = field(default_factory=list)
    recoveries: list[tuple[date, float]] = field(default_factory=list)
    lead_times_s: list[float] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    deployed: list[int] = field(default_factory=list)


def _outcome(kind: str, status: str, reached: int) -> str:
    if kind == "rollback":
        return "rollback run"
    if status == "succeeded":
        return "succeeded"
    if status in ("rolled_back", "rollback_failed"):
        return "rolled back"
    return "failed" if reached else "stopped at gates"


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def read_series(conn: Connection, scope: q.Scope) -> Series:
    """Everything the charts need, for ``scope``."""
    first = _monday(scope.since.date())
    last = _monday((scope.until - timedelta(microseconds=1)).date())
    weeks = [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]
    index = {w: i for i, w in enumerate(weeks)}
    outcomes = {name: [0] * len(weeks) for name in OUTCOMES}
    deployed = [0] * len(weeks)
    for week, kind, status, reached, n in conn.execute(q.weekly_outcomes(scope)):
        i = index[date.fromisoformat(week)]
        name = _outcome(kind, status, int(reached))
        outcomes[name][i] += int(n)
        if name in ("succeeded", "failed", "rolled back"):
            deployed[i] += int(n)
    failures = [0] * len(weeks)
    by_week: dict[int, list[float]] = defaultdict(list)
    series = Series(weeks=weeks, outcomes=outcomes)
    rows = q.recoveries(scope).subquery("f")
    for week, seconds in conn.execute(
        select(rows.c.week, seconds_between(rows.c.recovered_at, rows.c.failed_at))
    ):
        i = index[date.fromisoformat(week)]
        failures[i] += 1
        if seconds is not None:
            by_week[i].append(float(seconds))
            series.recoveries.append((weeks[i], float(seconds)))
    series.failures, series.deployed = failures, deployed
    series.change_failure_rate = [f / d if d else None for f, d in zip(failures, deployed, strict=True)]
    series.recovery_median_s = [median(by_week[i]) if by_week.get(i) else None for i in range(len(weeks))]
    series.lead_times_s = [float(v) for (v,) in conn.execute(q.lead_times(scope)) if v is not None]
    return series
