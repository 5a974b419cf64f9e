"""Deployment windows: days and hour ranges in an IANA time zone, DST-correct.

An instant is inside a window when its *wall-clock* time in the window's zone falls on one
of the days and inside one of the hour ranges. :meth:`CompiledWindow.open_spans` gives the
same set as UTC spans, so the next-allowed search can jump from boundary to boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from releasegate.config.models import Window
from releasegate.config.timespec import parse_days, parse_hours, parse_tz
from releasegate.errors import ConfigError, Problem
from releasegate.policy.intervals import Span, WallClock, merge
from releasegate.policy.labels import describe_days


@dataclass(frozen=True)
class CompiledWindow:
    """A parsed :class:`~releasegate.config.models.Window`."""

    days: frozenset[int]
    hours: tuple[tuple[time, time | None], ...]
    tz: ZoneInfo
    label: str

    def is_open(self, instant: datetime) -> bool:
        """Is ``instant`` (aware) inside this window?"""
        local = instant.astimezone(self.tz)
        if local.weekday() not in self.days:
            return False
        now = local.time().replace(fold=0, tzinfo=None)
        return any(start <= now and (end is None or now < end) for start, end in self.hours)

    def open_spans(self, start: datetime, end: datetime) -> list[Span]:
        """The UTC spans inside ``[start, end)`` when this window is open (merged, sorted)."""
        clock = WallClock(self.tz, start, end)
        first = start.astimezone(self.tz).date() - timedelta(days=1)
        last = end.astimezone(self.tz).date() + timedelta(days=1)
        spans: list[Span] = []
        day = first
        while day <= last:
            if day.weekday() in self.days:
                for h_start, h_end in self.hours:
                    local_start = datetime.combine(day, h_start)
                    local_end = (
                        datetime.combine(day + timedelta(days=1), time(0))
                        if h_end is None
                        else datetime.combine(day, h_end)
                    )
                    spans.extend(clock.to_utc(local_start, local_end))
            day += timedelta(days=1)
        return [(max(s, start), min(e, end)) for s, e in merge(spans) if s < end and e > start]


def compile_window(window: Window, path: str) -> CompiledWindow:
    """Parse a window; a bad value raises :class:`ConfigError` naming ``path``."""
    problems: list[Problem] = []
    days: frozenset[int] = frozenset()
    hours: list[tuple[time, time | None]] = []
    tz: ZoneInfo = ZoneInfo("UTC")
    try:
        days = parse_days(list(window.days))
    except ValueError as exc:
        problems.append(Problem(str(exc), f"{path}.days"))
    try:
        hours = parse_hours(list(window.hours))
    except ValueError as exc:
        problems.append(Problem(str(exc), f"{path}.hours"))
    try:
        tz = parse_tz(window.tz)
    except ValueError as exc:
        problems.append(Problem(str(exc), f"{path}.tz"))
    if problems:
        raise ConfigError(problems)
    label = f"{describe_days(days)} {', '.join(window.hours)} {window.tz}"
    return CompiledWindow(days=days, hours=tuple(hours), tz=tz, label=label)
