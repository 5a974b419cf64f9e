"""Freeze calendars: holidays (the ``holidays`` package), explicit dates, month/quarter ends.

A calendar freezes whole *days* in its own time zone. :meth:`CompiledCalendar.reason_for`
says why one date is frozen (or ``None``); :meth:`CompiledCalendar.frozen_spans` gives the
frozen days of a period as UTC spans for the next-allowed search.
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from releasegate.config.countries import holiday_source_problems, holidays_of
from releasegate.config.models import Calendar, DateRange, HolidaySource, PeriodEnd
from releasegate.config.timespec import parse_tz
from releasegate.errors import ConfigError, Problem
from releasegate.policy.intervals import Span, WallClock

_QUARTER_ENDS = (3, 6, 9, 12)


@lru_cache(maxsize=256)
def _holidays_of(country: str, subdiv: str | None, category: str, year: int) -> dict[date, str]:
    return holidays_of(country, subdiv, category, year)


def check_holiday_source(source: HolidaySource, path: str) -> None:
    """Raise :class:`ConfigError` if ``holidays`` does not know the country, subdivision or
    a category (only that country's module is loaded)."""
    problems = _holiday_problems(source.country, source.subdiv, tuple(source.categories))
    if problems:
        raise ConfigError([Problem(message, f"{path}{where}") for where, message in problems])


@lru_cache(maxsize=64)
def _holiday_problems(
    country: str, subdiv: str | None, categories: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    return tuple(
        ("".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in where), message)
        for where, message in holiday_source_problems(country, subdiv, categories)
    )


def _last_days(year: int, month: int, spec: PeriodEnd) -> tuple[date, ...]:
    last = _calendar.monthrange(year, month)[1]
    if not spec.business_days:
        return tuple(date(year, month, d) for d in range(max(1, last - spec.last_days + 1), last + 1))
    found: list[date] = []
    day = date(year, month, last)
    while len(found) < spec.last_days and day.month == month:
        if day.weekday() < 5:
            found.append(day)
        day -= timedelta(days=1)
    return tuple(found)


def _period_words(spec: PeriodEnd) -> str:
    unit = "business day" if spec.business_days else "day"
    return f"last {spec.last_days} {unit}{'s' if spec.last_days != 1 else ''}"


@dataclass(frozen=True)
class CompiledCalendar:
    """A parsed :class:`~releasegate.config.models.Calendar`."""

    name: str
    spec: Calendar
    tz: ZoneInfo

    @property
    def hard(self) -> bool:
        return self.spec.hard

    def reason_for(self, day: date) -> str | None:
        """Why ``day`` is frozen by this calendar, or ``None`` if it is not."""
        why = self._why(day)
        if why is None:
            return None
        return f"{self.spec.reason}: {why}" if self.spec.reason else why

    def _why(self, day: date) -> str | None:
        source = self.spec.holidays
        if source is not None:
            for category in source.categories:
                name = _holidays_of(source.country, source.subdiv, category, day.year).get(day)
                if name and (not source.only or any(o.lower() in name.lower() for o in source.only)):
                    where = f"{source.country}-{source.subdiv}" if source.subdiv else source.country
                    return f"{day} is {name} ({where} {category} holiday)"
        for entry in self.spec.dates:
            if isinstance(entry, DateRange):
                if entry.start <= day <= entry.end:
                    why = f" ({entry.reason})" if entry.reason else ""
                    return f"{day} is in the freeze {entry.start} to {entry.end}{why}"
            elif entry == day:
                return f"{day} is a listed freeze date"
        month_end = self.spec.month_end
        if month_end is not None and day in _last_days(day.year, day.month, month_end):
            return f"{day} is month-end ({_period_words(month_end)} of the month)"
        quarter_end = self.spec.quarter_end
        if (
            quarter_end is not None
            and day.month in _QUARTER_ENDS
            and day in _last_days(day.year, day.month, quarter_end)
        ):
            return f"{day} is quarter-end ({_period_words(quarter_end)} of the quarter)"
        return None

    def local_date(self, instant: datetime) -> date:
        """The date ``instant`` falls on in this calendar's zone."""
        return instant.astimezone(self.tz).date()

    def frozen_spans(self, start: datetime, end: datetime) -> list[tuple[Span, str]]:
        """Frozen days overlapping ``[start, end)`` as UTC spans, each with its reason."""
        clock = WallClock(self.tz, start, end)
        day, last = self.local_date(start), self.local_date(end)
        found: list[tuple[Span, str]] = []
        while day <= last:
            why = self.reason_for(day)
            if why is not None:
                local_start = datetime.combine(day, time(0))
                for span in clock.to_utc(local_start, local_start + timedelta(days=1)):
                    found.append((span, why))
            day += timedelta(days=1)
        return found


def compile_calendar(name: str, spec: Calendar) -> CompiledCalendar:
    """Parse a calendar; a bad zone or holiday source raises :class:`ConfigError`."""
    path = f"calendars.{name}"
    try:
        tz = parse_tz(spec.tz)
    except ValueError as exc:
        raise ConfigError([Problem(str(exc), f"{path}.tz")]) from exc
    if spec.holidays is not None:
        check_holiday_source(spec.holidays, f"{path}.holidays")
    return CompiledCalendar(name=name, spec=spec, tz=tz)
