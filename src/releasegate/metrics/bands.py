"""The DORA software delivery performance levels, as the State of DevOps reports print them.

Each report groups respondents into clusters (elite, high, medium, low) by four figures.
Deployment frequency, lead time and recovery time are printed as ranges; a value falls in
the best level whose range holds it. Change failure rate is printed as one figure per
level (and in 2024 the high level's figure, 20 %, is above the medium level's, 10 %): a
value falls in the level whose figure is nearest, the better level on a tie.
"""

from __future__ import annotations

from dataclasses import dataclass

HOUR = 3600.0
DAY = 24 * HOUR
WEEK = 7 * DAY
MONTH = 30.4375 * DAY
INFINITY = float("inf")


@dataclass(frozen=True)
class Level:
    """One performance level of one report: the ranges it was printed with."""

    name: str
    per_week: tuple[float, float]
    """Successful deployments per week, [low, high)."""
    lead_time: tuple[float, float]
    """Seconds, [low, high)."""
    change_failure_rate: float
    recovery_time: tuple[float, float]
    """Seconds, [low, high)."""


_PER_DAY = 7.0
_PER_MONTH = WEEK / MONTH
_PER_6_MONTHS = WEEK / (6 * MONTH)

REPORTS: dict[str, tuple[Level, ...]] = {
    # Accelerate State of DevOps Report 2023 (Google Cloud / DORA), software delivery
    # performance: elite 18 %, high 31 %, medium 33 %, low 17 % of respondents.
    "State of DevOps 2023": (
        Level("elite", (_PER_DAY, INFINITY), (0, DAY), 0.05, (0, HOUR)),
        Level("high", (1, _PER_DAY), (DAY, WEEK), 0.10, (0, DAY)),
        Level("medium", (_PER_MONTH, 1), (WEEK, MONTH), 0.15, (DAY, WEEK)),
        Level("low", (_PER_MONTH, 1), (WEEK, MONTH), 0.64, (MONTH, 6 * MONTH)),
    ),
    # Accelerate State of DevOps Report 2024: elite 19 %, high 22 %, medium 35 %, low 25 %.
    "State of DevOps 2024": (
        Level("elite", (_PER_DAY, INFINITY), (0, DAY), 0.05, (0, HOUR)),
        Level("high", (1, _PER_DAY), (DAY, WEEK), 0.20, (0, DAY)),
        Level("medium", (_PER_MONTH, 1), (WEEK, MONTH), 0.10, (0, DAY)),
        Level("low", (_PER_6_MONTHS, _PER_MONTH), (MONTH, 6 * MONTH), 0.40, (WEEK, MONTH)),
    ),
}

DORA_METRICS = ("deployment_frequency", "lead_time", "change_failure_rate", "recovery_time")


def level_of(report: str, metric: str, value: float) -> str | None:
    """The level ``value`` of ``metric`` falls in, per ``report``; None when no printed
    range holds it (e.g. a recovery time between a week and a month in 2023)."""
    levels = REPORTS[report]
    if metric == "change_failure_rate":
        return min(levels, key=lambda lv: (abs(lv.change_failure_rate - value), levels.index(lv))).name
    for level in levels:
        low, high = {
            "deployment_frequency": level.per_week,
            "lead_time": level.lead_time,
            "recovery_time": level.recovery_time,
        }[metric]
        if low <= value < high:
            return level.name
    return None


def levels_of(metric: str, value: float | None) -> dict[str, str | None]:
    """The level in every report (report name → level), or {} for a metric with none."""
    if value is None or metric not in DORA_METRICS:
        return {}
    return {report: level_of(report, metric, value) for report in REPORTS}
