"""Parsing of the time values in windows and calendars: days, hour ranges, time zones.

Kept in ``config/`` so the loader can report a bad value where it stands in the file and
``policy/`` can work on parsed values.
"""

from __future__ import annotations

import difflib
import re
from datetime import time
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ALIASES = {
    **{name: i for i, name in enumerate(DAY_NAMES)},
    **{name[:3]: i for i, name in enumerate(DAY_NAMES)},
    "tues": 1,
    "thur": 3,
    "thurs": 3,
}
_GROUPS = {"weekdays": range(0, 5), "weekend": range(5, 7), "weekends": range(5, 7), "daily": range(7)}
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _day(word: str) -> int:
    key = word.strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    raise ValueError(f"{word!r} is not a day{did_you_mean(key, DAY_NAMES)}")


def parse_days(specs: list[str]) -> frozenset[int]:
    """``["mon-fri"]``, ``["tue", "wed"]``, ``["weekdays"]`` → day numbers (Monday = 0).

    Ranges wrap around the week (``fri-mon`` is Friday to Monday).
    """
    days: set[int] = set()
    for spec in specs:
        key = spec.strip().lower()
        if key in _GROUPS:
            days.update(_GROUPS[key])
            continue
        if "-" in key:
            first, _, last = key.partition("-")
            start, end = _day(first), _day(last)
            day = start
            while True:
                days.add(day)
                if day == end:
                    break
                day = (day + 1) % 7
            continue
        days.add(_day(key))
    return frozenset(days)


def parse_hours(specs: list[str]) -> list[tuple[time, time | None]]:
    """``["10:00-14:00"]`` → ``[(10:00, 14:00)]``; an end of ``24:00`` becomes ``None``
    (end of day). Inverted ranges (``18:00-09:00``) and overlapping ranges are errors."""
    ranges: list[tuple[int, int]] = []
    for spec in specs:
        match = _HOURS.match(spec)
        if not match:
            raise ValueError(f"{spec!r} is not an hour range (write HH:MM-HH:MM, e.g. 10:00-14:00)")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
            raise ValueError(f"{spec!r} has a time that does not exist")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end <= start:
            raise ValueError(
                f"{spec!r} ends before it starts (split a range across midnight into two days)"
            )
        ranges.append((start, end))
    ranges.sort()
    for (s1, e1), (s2, _) in pairwise(ranges):
        if s2 < e1:
            raise ValueError(f"hour ranges overlap: {_fmt(s1)}-{_fmt(e1)} and {_fmt(s2)}-...")
    return [
        (time(s // 60, s % 60), None if e == 24 * 60 else time(e // 60, e % 60)) for s, e in ranges
    ]


def _fmt(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@lru_cache(maxsize=1)
def _zones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def parse_tz(name: str) -> ZoneInfo:
    """An IANA time zone, or a ValueError that suggests the closest name."""
    try:
        if name and not name.startswith("/") and ".." not in name:
            return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    raise ValueError(f"{name!r} is not a known IANA time zone{did_you_mean(name, _zones())}")
