"""What verification found, as plain JSON-able data: findings, stage results, the whole."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from pydantic import JsonValue

from releasegate.verify.baseline import Figure

Verdict = Literal["pass", "inconclusive", "fail"]
Outcome = Literal["pass", "fail", "inconclusive", "error", "skipped"]
Action = Literal["continue", "rollback", "pause"]


def clock_time(at: float) -> str:
    """``14:03:05`` (UTC) for a Unix time: how findings name an interval's bounds."""
    return datetime.fromtimestamp(at, tz=UTC).strftime("%H:%M:%S")


@dataclass(frozen=True)
class Finding:
    """One metric judged in one interval: what was seen, against what, and the outcome."""

    stage: str
    metric: str
    interval: int
    """0-based index of the interval in its stage (messages count from 1)."""
    start: float
    end: float
    outcome: Outcome
    value: float | None
    condition: str | None
    threshold: float | None
    """The bound actually applied, in the metric's unit (k × baseline, or the floor)."""
    baseline: Figure | None
    detail: str
    """Says it all in one line, e.g. ``error_rate 50% ≥ threshold 1% (< 1%, absolute)``."""
    dry_run: bool = False
    trigger: bool = False
    """A ``rollback.when`` condition that held."""

    @property
    def message(self) -> str:
        """``stage immediate, interval 3 (14:03:00-14:03:05): <detail>``."""
        span = f"{clock_time(self.start)}-{clock_time(self.end)}"
        return f"stage {self.stage}, interval {self.interval + 1} ({span}): {self.detail}"

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "stage": self.stage,
            "metric": self.metric,
            "interval": self.interval,
            "start": self.start,
            "end": self.end,
            "outcome": self.outcome,
            "value": self.value,
            "condition": self.condition,
            "threshold": self.threshold,
            "baseline": None if self.baseline is None else self.baseline.to_json(),
            "dry_run": self.dry_run,
            "trigger": self.trigger,
            "message": self.message,
        }


@dataclass(frozen=True)
class StageResult:
    """The verdict of one stage and why."""

    stage: str
    verdict: Verdict
    reason: str
    intervals: int
    planned: int
    on_fail: Literal["rollback", "pause"]
    findings: tuple[Finding, ...] = ()
    """Every interval that did not pass (capped), the decisive one included."""
    counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    """Metric → outcome → intervals."""
    dry_run: bool = False
    dry_run_verdict: Verdict | None = None
    """What the dry-run metrics alone would have decided."""
    notes: tuple[str, ...] = ()
    confirm_by: tuple[str, ...] = ()
    confirm_within_s: float = 0.0

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "stage": self.stage,
            "verdict": self.verdict,
            "reason": self.reason,
            "intervals": self.intervals,
            "planned": self.planned,
            "on_fail": self.on_fail,
            "dry_run": self.dry_run,
            "dry_run_verdict": self.dry_run_verdict,
            "findings": [f.to_json() for f in self.findings],
            "counts": {m: dict(c) for m, c in self.counts.items()},
            "notes": list(self.notes),
            "confirm_by": list(self.confirm_by),
            "confirm_within_s": self.confirm_within_s,
        }


@dataclass(frozen=True)
class VerificationResult:
    """The outcome of :func:`releasegate.verify.api.run_stages`.

    ``action`` is what the engine should do: ``continue`` (every acting stage passed),
    ``rollback`` (a stage failed with ``on_fail: rollback``, or a ``rollback.when``
    trigger held) or ``pause`` (a stage was inconclusive, or failed with
    ``on_fail: pause``: ask ``confirm_by`` within ``confirm_within_s``, then roll back).
    """

    verdict: Verdict
    action: Action
    reason: str
    stages: tuple[StageResult, ...]
    baseline: str | None
    """The label of the baseline used, or None: absolute thresholds only."""
    trigger: Finding | None = None
    decisive: Finding | None = None
    """The finding the decision rests on (metric, interval, value, threshold, baseline)."""
    detection_s: float | None = None
    """Seconds from the start of the first bad interval to the decision."""
    notes: tuple[str, ...] = ()

    @property
    def confirm_by(self) -> tuple[str, ...]:
        return self.stages[-1].confirm_by if self.stages else ()

    @property
    def confirm_within_s(self) -> float:
        return self.stages[-1].confirm_within_s if self.stages else 0.0

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "verdict": self.verdict,
            "action": self.action,
            "reason": self.reason,
            "baseline": self.baseline,
            "trigger": None if self.trigger is None else self.trigger.to_json(),
            "decisive": None if self.decisive is None else self.decisive.to_json(),
            "detection_s": self.detection_s,
            "notes": list(self.notes),
            "stages": [s.to_json() for s in self.stages],
        }
