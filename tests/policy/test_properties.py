"""Property tests over random instants and time zones, DST transitions included.

The policy is compared with a deliberately naive reference written here: an instant is
allowed when its wall clock in the window's zone is inside the window and no freeze day
(in the calendar's zone) or ad-hoc freeze covers it. The next allowed time is checked
against a minute-by-minute search over a bounded horizon.
"""

from __future__ import annotations

import calendar as calendar_module
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releasegate.config.models import Config
from releasegate.policy.api import check_deploy
from releasegate.policy.facts import FreezeFact, PolicyFacts

DST_ZONES = [
    "America/New_York", "Europe/London", "Europe/Dublin", "Australia/Lord_Howe",
    "America/Santiago", "Pacific/Chatham", "America/St_Johns", "Asia/Kolkata",
    "Africa/Casablanca", "Australia/Adelaide", "America/Havana", "UTC",
]
REFERENCE_HORIZON = timedelta(days=6)
START, END = datetime(2025, 1, 1, tzinfo=UTC), datetime(2030, 12, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    days: frozenset[int]
    hours: tuple[tuple[int, int], ...]  # minutes of the day, end may be 1440
    tz: str
    cal_tz: str
    month_end: tuple[int, bool] | None
    holidays_of: str | None
    freeze: tuple[datetime, datetime] | None

    def config(self) -> Config:
        names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        fmt = lambda m: f"{m // 60:02d}:{m % 60:02d}"  # noqa: E731
        calendar: dict[str, Any] = {"tz": self.cal_tz}
        if self.month_end:
            calendar["month_end"] = {"last_days": self.month_end[0], "business_days": self.month_end[1]}
        if self.holidays_of:
            calendar["holidays"] = {"country": self.holidays_of}
        return Config.model_validate({
            "project": "p",
            "calendars": {"cal": calendar},
            "environments": {"production": {
                "window": {"days": [names[d] for d in sorted(self.days)],
                           "hours": [f"{fmt(s)}-{fmt(e)}" for s, e in self.hours], "tz": self.tz},
                "freezes": ["cal"],
            }},
        })

    def facts(self) -> PolicyFacts:
        if self.freeze is None:
            return PolicyFacts()
        return PolicyFacts(freezes=(FreezeFact(1, "production", *self.freeze, "ad hoc"),))


def _frozen_day(case: Case, day: date) -> bool:
    if case.holidays_of and day in holidays.country_holidays(case.holidays_of, years=day.year):
        return True
    if case.month_end:
        n, business = case.month_end
        last = calendar_module.monthrange(day.year, day.month)[1]
        if not business:
            return day.day > last - n
        rest = [date(day.year, day.month, d) for d in range(day.day, last + 1)]
        return day.weekday() < 5 and sum(d.weekday() < 5 for d in rest) <= n
    return False


def reference_allowed(case: Case, instant: datetime) -> bool:
    local = instant.astimezone(ZoneInfo(case.tz))
    minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
    if local.weekday() not in case.days or not any(s <= minute < e for s, e in case.hours):
        return False
    if case.freeze and case.freeze[0] <= instant < case.freeze[1]:
        return False
    return not _frozen_day(case, instant.astimezone(ZoneInfo(case.cal_tz)).date())


@lru_cache(maxsize=64)
def _transitions(zone: str, year: int) -> tuple[datetime, ...]:
    tz, found = ZoneInfo(zone), []
    at = datetime(year, 1, 1, tzinfo=UTC)
    while at.year == year:
        if (at + timedelta(hours=1)).astimezone(tz).utcoffset() != at.astimezone(tz).utcoffset():
            found.append(at)
        at += timedelta(hours=1)
    return tuple(found)


zones = st.one_of(
    st.sampled_from(DST_ZONES),
    st.timezones().map(lambda z: getattr(z, "key", "UTC")).filter(lambda k: "/" in k),
)


@st.composite
def hour_ranges(draw: st.DrawFn) -> tuple[tuple[int, int], ...]:
    cuts = sorted(draw(st.sets(st.integers(0, 96), min_size=2, max_size=4)))
    pairs = [(cuts[i] * 15, cuts[i + 1] * 15) for i in range(0, len(cuts) - 1, 2)]
    return tuple(pairs)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    freeze = None
    if draw(st.booleans()):
        start = draw(st.datetimes(START.replace(tzinfo=None), END.replace(tzinfo=None))).replace(
            second=0, microsecond=0, tzinfo=UTC)
        freeze = (start, start + timedelta(minutes=draw(st.integers(1, 8 * 1440))))
    month_end = draw(st.none() | st.tuples(st.integers(1, 3), st.booleans()))
    return Case(
        days=frozenset(draw(st.sets(st.integers(0, 6), min_size=1))),
        hours=draw(hour_ranges()),
        tz=draw(zones),
        cal_tz=draw(zones),
        month_end=month_end,
        holidays_of=draw(st.sampled_from([None, "IN", "US", "GB"])),
        freeze=freeze,
    )


@st.composite
def instants(draw: st.DrawFn, case: Case) -> datetime:
    """Anywhere in 2025-2030, at a window's edge, or within a day of a DST transition."""
    where = draw(st.sampled_from(["anywhere", "edge", "dst"]))
    if where == "edge":
        day = draw(st.dates(START.date(), END.date()))
        minute = draw(st.sampled_from([m for pair in case.hours for m in pair]))
        local = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(case.tz)) + timedelta(minutes=minute)
        nudge = draw(st.sampled_from([timedelta(0), timedelta(microseconds=-1), timedelta(seconds=30)]))
        return local.replace(fold=draw(st.integers(0, 1))).astimezone(UTC) + nudge
    if where == "dst":
        year = draw(st.integers(2025, 2030))
        near = _transitions(draw(st.sampled_from([case.tz, case.cal_tz])), year)
        if near:
            base = draw(st.sampled_from(near))
            return base + timedelta(seconds=draw(st.integers(-86400, 86400)))
    naive = draw(st.datetimes(START.replace(tzinfo=None), END.replace(tzinfo=None)))
    return naive.replace(tzinfo=UTC)


def _decide(case: Case, instant: datetime):  # type: ignore[no-untyped-def]
    return check_deploy(case.config(), "production", None, "normal", "u", case.facts(), instant)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), case=cases())
def test_allowed_exactly_when_inside_a_window_and_outside_every_freeze(data: st.DataObject, case: Case) -> None:
    instant = data.draw(instants(case))
    assert _decide(case, instant).allowed == reference_allowed(case, instant)


def _reference_next(case: Case, after: datetime) -> datetime | None:
    if reference_allowed(case, after):
        return after
    step = after.replace(second=0, microsecond=0)
    if step < after:
        step += timedelta(minutes=1)
    while step <= after + REFERENCE_HORIZON:
        if reference_allowed(case, step):
            return step
        step += timedelta(minutes=1)
    return None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), case=cases())
def test_next_allowed_time_is_allowed_and_none_earlier_exists(data: st.DataObject, case: Case) -> None:
    instant = data.draw(instants(case))
    found = _decide(case, instant).next_allowed_at
    expected = _reference_next(case, instant)
    if expected is not None:
        assert found == expected
    else:
        assert found is None or found > instant + REFERENCE_HORIZON
    if found is not None:
        assert reference_allowed(case, found)
        assert _decide(case, found).allowed
