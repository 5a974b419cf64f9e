"""When an emergency contact can be reached: always (24/7), or within business hours."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from releasegate.config.records_models import Contact
from releasegate.config.timespec import parse_days, parse_hours, parse_tz

_SEARCH_DAYS = 8


def available(contact: Contact, now: datetime) -> bool:
    """Whether ``contact`` is available at ``now`` (aware)."""
    if contact.availability == "24/7":
        return True
    hours = contact.hours
    local = now.astimezone(parse_tz(hours.tz))
    if local.weekday() not in parse_days(hours.days):
        return False
    clock = local.time().replace(tzinfo=None)
    return any(start <= clock and (end is None or clock < end)
               for start, end in parse_hours(hours.hours))


def next_available(contact: Contact, now: datetime) -> datetime:
    """``now`` if the contact is available, else the start of their next business hours."""
    if available(contact, now):
        return now
    hours = contact.hours
    tz = parse_tz(hours.tz)
    days = parse_days(hours.days)
    starts = sorted(start for start, _ in parse_hours(hours.hours))
    local_day = now.astimezone(tz).date()
    for offset in range(_SEARCH_DAYS):
        day = local_day + timedelta(days=offset)
        if day.weekday() not in days:
            continue
        for start in starts:
            moment = datetime.combine(day, time(start.hour, start.minute), tzinfo=tz)
            if moment > now:
                return moment
    raise ValueError(f"contact {contact.role!r} has no business hours in any week")
