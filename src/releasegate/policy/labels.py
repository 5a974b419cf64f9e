"""How policy writes times, days and durations in its reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

DAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def utc_label(instant: datetime) -> str:
    """``2026-11-10 10:00 UTC (Tue)``."""
    at = instant.astimezone(UTC)
    return f"{at:%Y-%m-%d %H:%M} UTC ({DAY_ABBR[at.weekday()]})"


def local_label(instant: datetime, tz: ZoneInfo) -> str:
    """``Fri 2026-11-06 16:30 IST``: how an instant reads in a zone."""
    local = instant.astimezone(tz)
    return f"{DAY_ABBR[local.weekday()]} {local:%Y-%m-%d %H:%M} {local.tzname() or tz.key}"


def human_duration(value: timedelta) -> str:
    """``1h10m``, ``2d3h``, ``45s``; whole seconds, largest units first."""
    seconds = max(int(value.total_seconds()), 0)
    if seconds == 0:
        return "0s"
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)


def describe_days(days: frozenset[int]) -> str:
    """``{1, 2, 3}`` → ``Tue-Thu``; ``{0, 2}`` → ``Mon, Wed``; all seven → ``every day``."""
    if len(days) == 7:
        return "every day"
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(
        DAY_ABBR[r[0]] if len(r) == 1 else f"{DAY_ABBR[r[0]]}-{DAY_ABBR[r[-1]]}" for r in runs
    )
