"""The time-based rules together: windows, freezes and soak, at one instant or searched.

:meth:`TimeRules.results_at` says what each rule says at an instant;
:meth:`TimeRules.next_allowed` finds the first instant at or after a time when all of them
allow, jumping from boundary to boundary (window openings, freeze ends) a month at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from releasegate.policy.decision import RuleResult
from releasegate.policy.emergency import EmergencyGrant
from releasegate.policy.freezes import Blocker, FreezeSources
from releasegate.policy.intervals import Span, merge, subtract
from releasegate.policy.labels import human_duration, local_label, utc_label
from releasegate.policy.windows import CompiledWindow

HORIZON = timedelta(days=366)
"""How far ahead :meth:`TimeRules.next_allowed` looks before it gives up."""

_CHUNK = timedelta(days=32)


class TimeRules:
    """Windows, freezes and a soak deadline for one environment and one kind of release."""

    def __init__(
        self, *, windows: Sequence[CompiledWindow], sources: FreezeSources, grant: EmergencyGrant,
        kind: str, not_before: datetime | None = None, freeze_at: str = "high",
    ) -> None:
        self.windows = list(windows)
        self.sources = sources
        self.grant = grant
        self.rollback = kind == "rollback"
        self.not_before = not_before
        self.freeze_at = freeze_at

    def _overridable(self, blocker: Blocker) -> bool:
        if blocker.hard:
            return self.grant.hard
        return self.grant.soft or self.rollback

    def _window_applies(self) -> bool:
        return bool(self.windows) and not self.grant.soft and not self.rollback

    def allowed_at(self, instant: datetime) -> bool:
        """Do all time-based rules allow a deployment to start at ``instant``?"""
        if self.not_before is not None and instant < self.not_before:
            return False
        if self._window_applies() and not any(w.is_open(instant) for w in self.windows):
            return False
        return all(self._overridable(b) for b in self.sources.active(instant))

    def results_at(self, instant: datetime) -> list[RuleResult]:
        """The window and freeze results at ``instant`` (soak is judged by promotion)."""
        return [self._window_result(instant), *self._freeze_results(instant)]

    def _window_result(self, instant: datetime) -> RuleResult:
        if not self.windows:
            return RuleResult("window", True, "no window configured: any time", time_based=True)
        inside = [w for w in self.windows if w.is_open(instant)]
        where = local_label(instant, self.windows[0].tz)
        labels = " or ".join(w.label for w in self.windows)
        if inside:
            return RuleResult("window", True, f"{where} is inside the window {inside[0].label}", time_based=True)
        why = f"{where} is outside the window {labels}"
        if self.rollback:
            return RuleResult("window", True, f"{why}; rollbacks are not held to it", skipped=True, time_based=True)
        if self.grant.soft:
            return RuleResult("window", True, f"{why}; overridden by the emergency path", overridden=True, time_based=True)
        return RuleResult("window", False, why, time_based=True)

    def _freeze_results(self, instant: datetime) -> list[RuleResult]:
        active = self.sources.active(instant)
        results: list[RuleResult] = []
        for rule in self.sources.rules:
            mine = [b for b in active if b.rule == rule]
            if not mine:
                results.append(RuleResult(rule, True, self._quiet(rule, instant), time_based=True))
                continue
            why = "; ".join(b.reason for b in mine)
            if all(self._overridable(b) for b in mine):
                by = "rollbacks are not held by it" if self.rollback and not self.grant.soft else "overridden by the emergency path"
                results.append(RuleResult(rule, True, f"{why}; {by}", overridden=not self.rollback or self.grant.soft, time_based=True))
            else:
                hard = any(b.hard for b in mine)
                tail = " (a hard freeze: only --emergency --override-freeze by an admin passes it)" if hard else ""
                results.append(RuleResult(rule, False, why + tail, time_based=True))
        return results

    def _quiet(self, rule: str, instant: datetime) -> str:
        name = rule.removeprefix("freeze:")
        if name == "incidents":
            return f"no open incident at {self.freeze_at} or above"
        if name == "campaigns":
            return "no campaign within its buffer"
        if name == "ad-hoc":
            return "no ad-hoc freeze in force"
        for cal in self.sources.calendars:
            if cal.name == name:
                return f"{cal.local_date(instant)} is not a freeze day"
        return "not in force"

    def _cuts(self, start: datetime, end: datetime, *, skip_open_ended: bool) -> list[Span]:
        return merge(
            (max(b.start, start), min(b.end, end))
            for b in self.sources.blockers(start, end)
            if not self._overridable(b) and not (skip_open_ended and b.open_ended)
        )

    def next_allowed(
        self, after: datetime, *, horizon: timedelta = HORIZON, skip_open_ended: bool = False
    ) -> datetime | None:
        """The first instant ≥ ``after`` (within ``horizon``) when every time rule allows."""
        limit = after + horizon
        start = max(after, self.not_before) if self.not_before is not None else after
        while start < limit:
            end = min(start + _CHUNK, limit)
            if self._window_applies():
                spans = merge(s for w in self.windows for s in w.open_spans(start, end))
            else:
                spans = [(start, end)]
            free = subtract(spans, self._cuts(start, end, skip_open_ended=skip_open_ended))
            if free:
                return free[0][0]
            start = end
        return None

    def why_never(self, after: datetime, horizon: timedelta = HORIZON) -> str:
        """Why :meth:`next_allowed` found nothing, and what would follow an incident's close."""
        open_ended = [
            b for b in self.sources.blockers(after, after + horizon)
            if b.open_ended and not self._overridable(b)
        ]
        if open_ended:
            ids = "; ".join(b.reason for b in open_ended)
            later = self.next_allowed(after, horizon=horizon, skip_open_ended=True)
            then = (
                f"; once closed, the earliest would be {utc_label(later)}" if later is not None else ""
            )
            return f"No allowed time while an incident is open ({ids}){then}."
        return (
            f"No allowed time within {human_duration(horizon)} of {utc_label(after)}: "
            "check the windows and freeze calendars."
        )
