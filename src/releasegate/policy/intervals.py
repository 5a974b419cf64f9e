"""Half-open UTC time spans, and the wall-clock → UTC conversion that keeps DST right.

A local rule ("10:00-14:00 in Europe/London", "the whole of 8 November in Asia/Kolkata")
is a set of *wall-clock* times. The UTC instants whose local wall time falls in such a set
are found piece by piece: between two offset transitions the offset is constant, so the
preimage of a wall-clock range is that range shifted by the offset, cut to the piece. A
range inside a spring-forward gap is empty; one inside a fall-back overlap occurs twice.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache

Span = tuple[datetime, datetime]
"""``[start, end)`` in aware UTC datetimes."""

FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)
"""The end of a span that has none (an incident open until someone closes it)."""

_SAMPLE = timedelta(hours=6)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def merge(spans: Iterable[Span]) -> list[Span]:
    """Sort and join overlapping or touching spans; drop empty ones."""
    out: list[Span] = []
    for start, end in sorted(s for s in spans if s[0] < s[1]):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def subtract(base: list[Span], cuts: list[Span]) -> list[Span]:
    """``base`` minus ``cuts``; both merged and sorted (as :func:`merge` returns them)."""
    out: list[Span] = []
    j = 0
    for start, end in base:
        cur = start
        while j < len(cuts) and cuts[j][1] <= cur:
            j += 1
        k = j
        while k < len(cuts) and cuts[k][0] < end:
            if cuts[k][0] > cur:
                out.append((cur, cuts[k][0]))
            cur = max(cur, cuts[k][1])
            if cur >= end:
                break
            k += 1
        if cur < end:
            out.append((cur, end))
    return out


def clip(spans: Iterable[Span], start: datetime, end: datetime) -> list[Span]:
    """The parts of ``spans`` inside ``[start, end)``."""
    return [(max(s, start), min(e, end)) for s, e in spans if s < end and e > start]


def _offset(tz: tzinfo, instant: datetime) -> timedelta:
    found = instant.astimezone(tz).utcoffset()
    return found if found is not None else timedelta(0)


@lru_cache(maxsize=512)
def _transitions(tz: tzinfo, year: int) -> tuple[tuple[datetime, timedelta], ...]:
    """Offset changes of ``tz`` during ``year`` (UTC), each with the offset after it."""
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    found: list[tuple[datetime, timedelta]] = []
    before, off_before = start, _offset(tz, start)
    while before < end:
        after = min(before + _SAMPLE, end)
        off_after = _offset(tz, after)
        if off_after != off_before:
            lo, hi = int((before - _EPOCH).total_seconds()), int((after - _EPOCH).total_seconds())
            while hi - lo > 1:  # the first second with the new offset
                mid = (lo + hi) // 2
                if _offset(tz, _EPOCH + timedelta(seconds=mid)) == off_before:
                    lo = mid
                else:
                    hi = mid
            found.append((_EPOCH + timedelta(seconds=hi), off_after))
        before, off_before = after, off_after
    return tuple(found)


def offset_pieces(tz: tzinfo, start: datetime, end: datetime) -> list[tuple[datetime, datetime, timedelta]]:
    """``[start, end)`` cut where the offset of ``tz`` changes: ``(from, to, offset)``."""
    pieces: list[tuple[datetime, datetime, timedelta]] = []
    cur, off = start, _offset(tz, start)
    for year in range(start.year, end.year + 1):
        for at, new_off in _transitions(tz, year):
            if at <= start:
                continue
            if at >= end:
                break
            pieces.append((cur, at, off))
            cur, off = at, new_off
    pieces.append((cur, end, off))
    return pieces


class WallClock:
    """Converts wall-clock ranges of one zone into UTC spans over a bounded period."""

    def __init__(self, tz: tzinfo, start: datetime, end: datetime) -> None:
        margin = timedelta(days=2)
        self._pieces = offset_pieces(tz, start - margin, end + margin)
        self._starts = [p[0] for p in self._pieces]

    def to_utc(self, local_start: datetime, local_end: datetime) -> list[Span]:
        """UTC spans whose wall time (naive ``local_*``) lies in ``[local_start, local_end)``."""
        naive_start = local_start.replace(tzinfo=UTC)  # arithmetic on the wall values
        naive_end = local_end.replace(tzinfo=UTC)
        first = max(bisect_right(self._starts, naive_start - timedelta(hours=26)) - 1, 0)
        out: list[Span] = []
        for piece_start, piece_end, off in self._pieces[first:]:
            if piece_start > naive_end + timedelta(hours=26):
                break
            lo, hi = max(naive_start - off, piece_start), min(naive_end - off, piece_end)
            if lo < hi:
                out.append((lo, hi))
        return out
