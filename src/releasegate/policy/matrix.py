"""The rollback decision matrix: severity × share of users affected → action and deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from releasegate.config.models import Incidents
from releasegate.errors import ConfigError
from releasegate.policy.freezes import severity_rank
from releasegate.policy.labels import human_duration, utc_label


@dataclass(frozen=True)
class MatrixAction:
    """What to do about an incident, and by when."""

    severity: str
    impact: float
    action: str
    within: timedelta
    deadline: datetime

    def describe(self) -> str:
        return (
            f"{self.action} within {human_duration(self.within)} "
            f"(by {utc_label(self.deadline)}) — {self.severity}, {self.impact:g}% of users"
        )


def parse_impact(text: str) -> float:
    """``"60%"``, ``"60"``, ``"0.5%"`` → percent; :class:`ConfigError` if not 0–100."""
    raw = text.strip().removesuffix("%").strip()
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"--impact: {text!r} is not a share of users (write e.g. 60%)") from None
    if not 0 <= value <= 100:
        raise ConfigError(f"--impact: {text!r} is not between 0% and 100%")
    return value


def decide(incidents: Incidents, severity: str, impact: float, opened_at: datetime) -> MatrixAction:
    """The row for ``severity`` with the highest ``min_impact`` not above ``impact``."""
    try:
        severity_rank(severity)
    except ValueError as exc:
        raise ConfigError(f"--severity: {exc}") from None
    rows = [r for r in incidents.matrix if r.severity == severity and r.min_impact <= impact]
    if not rows:
        raise ConfigError(
            f"incidents.matrix has no row for severity {severity!r} at {impact:g}% of users"
        )
    row = max(rows, key=lambda r: r.min_impact)
    return MatrixAction(severity, impact, row.action, row.within, opened_at + row.within)
