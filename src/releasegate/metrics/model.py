"""What metrics return: one :class:`Metric` per figure, graded against its target.

A figure is graded only when it rests on at least ``min_n`` observations (deployments,
changes, recoveries, incidents); below that ``met`` is None and ``status`` says
*not enough data* — a rate from two deployments is noise, not a grade.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import JsonValue

from releasegate.config.records_models import METRIC_UNITS, Target
from releasegate.metrics.bands import levels_of

Status = Literal["met", "missed", "not enough data", "no target"]


@dataclass(frozen=True)
class Metric:
    """One figure: its value in its unit (seconds, a 0..1 ratio, per week, per deployment),
    the target it is graded against, and how many observations it rests on."""

    name: str
    value: float | None
    unit: str
    target: str | None
    met: bool | None
    n: int
    status: Status
    extra: dict[str, JsonValue] = field(default_factory=dict)
    """Companion figures: ``p90``, ``mean``, ``excluded``… and ``dora`` levels."""

    def to_json(self) -> dict[str, JsonValue]:
        """``{"value", "unit", "target", "met", "n", "status", ...extra}``."""
        return {
            "value": self.value, "unit": self.unit, "target": self.target, "met": self.met,
            "n": self.n, "status": self.status, **self.extra,
        }


def grade(
    name: str,
    value: float | None,
    n: int,
    *,
    target: Target | None,
    min_n: int,
    extra: dict[str, JsonValue] | None = None,
) -> Metric:
    """A :class:`Metric` graded against ``target`` when ``n >= min_n`` and there is a value."""
    extra = dict(extra or {})
    dora = levels_of(name, value) if n >= min_n else {}
    if dora:
        extra["dora"] = dict(dora)
    unit = METRIC_UNITS[name]
    if value is None or n < min_n:
        return Metric(name, value, unit, target.text if target else None, None, n,
                      "not enough data", extra)
    if target is None:
        return Metric(name, value, unit, None, None, n, "no target", extra)
    met = target.met(value)
    return Metric(name, value, unit, target.text, met, n, "met" if met else "missed", extra)


@dataclass(frozen=True)
class MetricsReport:
    """Every figure for one project, environment and period."""

    project: str | None
    environment: str | None
    since: datetime
    until: datetime
    min_n: int
    metrics: dict[str, Metric]

    def to_json(self) -> dict[str, JsonValue]:
        """One object per metric under its name, and the scope under ``scope``."""
        out: dict[str, JsonValue] = {name: m.to_json() for name, m in self.metrics.items()}
        out["scope"] = {
            "project": self.project, "environment": self.environment,
            "since": self.since.isoformat(), "until": self.until.isoformat(), "min_n": self.min_n,
        }
        return out
