"""Figures as people read them: ``4h 12m``, ``96.2%``, ``2.5/week``."""

from __future__ import annotations

from releasegate.metrics.model import Metric

TITLES = {
    "deployment_frequency": "Deployment frequency",
    "lead_time": "Lead time for changes",
    "change_failure_rate": "Change failure rate",
    "recovery_time": "Failed deployment recovery time",
    "mttr": "Mean time to restore (incidents)",
    "rollback_rate": "Rollback rate",
    "success_rate": "Success rate",
    "deployment_duration": "Deployment duration",
    "downtime": "Downtime",
    "rework_rate": "Rework rate",
    "test_coverage": "Test coverage",
    "bugs": "Bugs introduced",
    "security_issues": "Security issues",
    "performance_regressions": "Performance regressions",
    "customer_complaints": "Customer complaints",
}


def duration(seconds: float) -> str:
    """``0s``, ``45s``, ``12m 5s``, ``4h 12m``, ``3d 2h``."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60}s" if s % 60 else f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60}m" if s % 3600 >= 60 else f"{s // 3600}h"
    return f"{s // 86400}d {s % 86400 // 3600}h" if s % 86400 >= 3600 else f"{s // 86400}d"


def value(metric: Metric, figure: float | None = None) -> str:
    """The metric's value (or ``figure``, in its unit) for people; ``—`` when there is none."""
    v = metric.value if figure is None else figure
    if v is None:
        return "—"
    if metric.unit == "seconds":
        return duration(v)
    if metric.unit == "ratio":
        return f"{v * 100:.1f}%"
    if metric.unit == "per_week":
        return f"{v:.2g}/week" if v < 10 else f"{v:.0f}/week"
    return f"{v:.2f} per deployment"


def status(metric: Metric) -> str:
    """``met``, ``missed (target < 10%)``, ``not enough data (n=3)``."""
    if metric.status == "missed":
        return f"missed (target {metric.target})"
    if metric.status == "not enough data":
        return f"not enough data (n={metric.n})"
    return metric.status
