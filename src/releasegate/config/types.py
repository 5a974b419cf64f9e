"""Small value types shared by the configuration models: durations, ids, thresholds."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, StringConstraints, WithJsonSchema

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_ONE = r"\d+(\.\d+)?(ms|s|m|h|d|w)"
_DURATION_PATTERN = rf"^\s*{_ONE}(\s+{_ONE})*\s*$"
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


MAX_DURATION = timedelta(days=366)
"""The longest duration a config may give (a timeout, a soak, a freeze buffer...)."""


def parse_duration(value: object) -> timedelta:
    """Turn ``"90s"``, ``"5m"``, ``"2h"``, ``"1d"`` (or a number of seconds) into a timedelta,
    at most :data:`MAX_DURATION`; anything else is a ValueError (never an OverflowError)."""
    if isinstance(value, timedelta):
        return _bounded(value, value.total_seconds())
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration (write e.g. 30s, 5m, 2h, 1d)")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"{value!r} is not a duration: it is negative")
        return _bounded(value, value)
    if isinstance(value, str) and len(value) <= 100:
        parts = value.split()
        total = 0.0
        # allow "1h 30m"
        for part in parts or [value]:
            match = _DURATION.match(part)
            if not match:
                raise ValueError(f"{value!r} is not a duration (write e.g. 30s, 5m, 2h, 1d)")
            total += float(match.group(1)) * _UNITS[match.group(2)]
        return _bounded(value, total)
    raise ValueError(f"{value!r:.60} is not a duration (write e.g. 30s, 5m, 2h, 1d)")


def _bounded(value: object, seconds: float) -> timedelta:
    # timedelta(seconds=1e30) raises OverflowError, math.isfinite(10**400) too: compare
    # first (an int of any size compares with a float), then look for nan
    shown = "a number that large" if isinstance(value, int) and value > 10**60 else f"{value!r:.60}"
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{shown} is longer than {format_duration(MAX_DURATION)}")
    if isinstance(seconds, float) and not math.isfinite(seconds):
        raise ValueError(f"{shown} is not a duration (write e.g. 30s, 5m, 2h, 1d)")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest exact spelling of a duration: ``timedelta(hours=2)`` → ``"2h"``."""
    seconds = value.total_seconds()
    for unit in ("w", "d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    if seconds < 1 and seconds > 0:
        return f"{round(seconds * 1000)}ms"
    return f"{seconds:g}s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": _DURATION_PATTERN},
                {"type": "number", "minimum": 0},
            ],
            "description": "A duration such as 30s, 5m, 2h, 1d, '1h 30m' (or a number of seconds)",
        }
    ),
]

Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=128),
]
"""Step ids, environment names, roles, calendar names: letters, digits, ``_ . -``."""


Name = Annotated[str, StringConstraints(min_length=1, max_length=128)]
"""A user's name: any text (an email address, ``dora``), 1 to 128 characters."""


def _listify(value: object) -> object:
    if isinstance(value, str):
        return [value]
    return value


StrList = Annotated[
    list[str],
    BeforeValidator(_listify),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
            "description": "A list of strings, or one string",
        }
    ),
]
"""A list of strings that may be written as a single string."""
