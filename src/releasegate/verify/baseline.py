"""Baselines: what "normal" was for each metric.

"Normal" is the previous good release on the same environment — its recorded samples,
reduced per metric to the median of its interval values and the number of observations
behind them (requests for the probe's figures, intervals for any other source) — or a
fixed value from the config. Every comparison names the baseline it used.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pydantic import JsonValue

from releasegate.verify.samples import SampleRow, StageSample

FIXED = "fixed"


@dataclass(frozen=True)
class Figure:
    """One metric's normal value, and how much evidence stands behind it."""

    value: float
    count: float
    """Observations behind it (``inf`` for a fixed value: it needs no evidence)."""
    intervals: int
    label: str
    """Where it comes from: ``1.2.0 (deployment 7)`` or ``fixed``."""

    def to_json(self) -> dict[str, JsonValue]:
        count: JsonValue = None if self.count == float("inf") else self.count
        return {"value": self.value, "count": count, "intervals": self.intervals, "label": self.label}


@dataclass(frozen=True)
class Baseline:
    """Normal figures per metric, from one earlier release (or fixed)."""

    label: str
    figures: Mapping[str, Figure] = field(default_factory=dict)
    version: str | None = None
    deployment_id: int | None = None

    @classmethod
    def from_samples(
        cls, samples: Iterable[StageSample], *, version: str, deployment_id: int | None = None
    ) -> Baseline:
        """The baseline of a release from its samples (every stage of its verification).

        Intervals whose source was unreadable, or whose figures were the observer's, are
        left out.
        """
        label = f"{version} (deployment {deployment_id})" if deployment_id else version
        values: dict[str, list[float]] = {}
        counts: dict[str, float] = {}
        for sample in samples:
            if sample.error is not None or sample.caveat is not None:
                continue
            found = sample.metric_values()
            weight = found.get("requests", 1.0)
            for metric, value in found.items():
                values.setdefault(metric, []).append(value)
                counts[metric] = counts.get(metric, 0.0) + weight
        figures = {
            m: Figure(statistics.median(v), counts[m], len(v), label) for m, v in values.items()
        }
        return cls(label=label, figures=figures, version=version, deployment_id=deployment_id)

    @classmethod
    def from_records(
        cls, rows: Iterable[SampleRow], *, version: str, deployment_id: int | None = None
    ) -> Baseline:
        """:meth:`from_samples` of what ``Store.list_samples(deployment_id)`` returned."""
        samples = [StageSample.from_record(r) for r in rows]
        return cls.from_samples(samples, version=version, deployment_id=deployment_id)

    @classmethod
    def fixed(cls, values: Mapping[str, float], *, label: str = FIXED) -> Baseline:
        """Fixed normal values (in each metric's unit)."""
        figures = {m: Figure(v, float("inf"), 0, label) for m, v in values.items()}
        return cls(label=label, figures=figures)

    def figure(self, metric: str) -> Figure | None:
        return self.figures.get(metric)

    def with_fixed(self, values: Mapping[str, float]) -> Baseline:
        """This baseline with ``values`` fixed (a stage's ``baseline:``) taking precedence."""
        fixed = {m: Figure(v, float("inf"), 0, FIXED) for m, v in values.items()}
        return Baseline(
            label=self.label,
            figures={**self.figures, **fixed},
            version=self.version,
            deployment_id=self.deployment_id,
        )

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "label": self.label,
            "version": self.version,
            "deployment_id": self.deployment_id,
            "figures": {m: f.to_json() for m, f in sorted(self.figures.items())},
        }
