"""What one source saw in one interval of a stage, as plain data the store can keep.

The store's ``verification_samples`` rows hold a stage name, a time and a mapping of
floats. A :class:`StageSample` travels through them as its metric values plus a few
bookkeeping keys that start with ``_`` (charts and tables skip those):

* ``_interval`` — the interval's index in its stage (0-based), ``_seconds`` its length;
* ``_source:NAME`` — which source read it (1.0);
* ``_error`` — 1.0 when the source could not be read; ``_caveat`` — 1.0 when its figures
  describe the observer rather than the service (the probe fell behind its schedule);
* ``_at_least:METRIC`` — 1.0 when the value is only a lower bound (requests timed out).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

_SOURCE = "_source:"
_AT_LEAST = "_at_least:"


class SampleRow(Protocol):
    """What :class:`StageSample` is read back from: the store's ``SampleRecord``."""

    @property
    def stage(self) -> str: ...

    @property
    def at(self) -> datetime: ...

    @property
    def values(self) -> Mapping[str, float]: ...


@dataclass(frozen=True)
class StageSample:
    """One source's figures for one interval of a stage."""

    stage: str
    source: str
    interval: int
    at: float
    """Unix time at the end of the interval."""
    seconds: float
    values: Mapping[str, float]
    """Finite values only: a metric that is absent had no data."""
    missing: Mapping[str, str] = field(default_factory=dict)
    """Why a metric had no data (not kept by the store)."""
    error: str | None = None
    """The source could not be read: why."""
    caveat: str | None = None
    at_least: frozenset[str] = frozenset()
    """Metrics whose value is only a lower bound (see ``Sample.at_least``)."""

    @property
    def at_datetime(self) -> datetime:
        """``at`` as an aware UTC datetime (what ``Store.add_sample`` takes)."""
        return datetime.fromtimestamp(self.at, tz=UTC)

    @property
    def start(self) -> float:
        return self.at - self.seconds

    def to_record(self) -> dict[str, float]:
        """The values for ``Store.add_sample(values=...)``."""
        record = {k: float(v) for k, v in self.values.items() if math.isfinite(v)}
        record["_interval"] = float(self.interval)
        record["_seconds"] = self.seconds
        record[_SOURCE + self.source] = 1.0
        if self.error is not None:
            record["_error"] = 1.0
        if self.caveat is not None:
            record["_caveat"] = 1.0
        for metric in self.at_least:
            record[_AT_LEAST + metric] = 1.0
        return record

    @classmethod
    def from_record(cls, row: SampleRow) -> StageSample:
        """Read back a sample the store kept (``Store.list_samples``)."""
        values = dict(row.values)
        source = next((k[len(_SOURCE) :] for k in values if k.startswith(_SOURCE)), "?")
        at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
        return cls(
            stage=row.stage,
            source=source,
            interval=int(values.get("_interval", 0)),
            at=at.timestamp(),
            seconds=float(values.get("_seconds", 0.0)),
            values={k: v for k, v in values.items() if not k.startswith("_")},
            error="unreadable (recorded)" if values.get("_error") else None,
            caveat="the observer's figures (recorded)" if values.get("_caveat") else None,
            at_least=frozenset(k[len(_AT_LEAST) :] for k in values if k.startswith(_AT_LEAST)),
        )

    def metric_values(self) -> dict[str, float]:
        """The metric values worth plotting or comparing (none from a failed read)."""
        if self.error is not None:
            return {}
        return {k: v for k, v in self.values.items() if math.isfinite(v)}
