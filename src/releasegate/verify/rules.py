"""A stage's configuration resolved into rules: which sources it reads, what unit each
metric is in, and each check and trigger with its settings filled in from the stage's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import JsonValue

from releasegate.config.models import MetricSettings, NoData, VerifyStage
from releasegate.drivers.api import MetricUnit
from releasegate.errors import ConfigError
from releasegate.verify.conditions import Condition, parse_value

DEFAULT_SOURCE = "probe"


def stage_sources(stage: VerifyStage) -> list[tuple[str, dict[str, JsonValue]]]:
    """The sources a stage reads: ``source`` (the probe by default) with ``with``, then
    each of ``sources``."""
    main = stage.source or DEFAULT_SOURCE
    found = [(main, dict(stage.with_))]
    for name, options in stage.sources.items():
        if name == main:
            raise ConfigError(
                f"stage {stage.stage}: {name} is both its source and one of its sources"
            )
        found.append((name, dict(options)))
    return found


@dataclass(frozen=True)
class Rule:
    """One metric's check in a stage, every setting resolved."""

    metric: str
    unit: MetricUnit
    source: str
    condition: Condition
    floor: float
    no_data: NoData
    inconclusive_limit: int
    error_limit: int
    min_samples: int
    dry_run: bool


def units_of(stage: VerifyStage, provided: Mapping[str, Mapping[str, MetricUnit]]) -> dict[str, tuple[str, MetricUnit]]:
    """Metric → (source, unit) from each source's declared metrics; a metric two sources
    report is a ConfigError."""
    units: dict[str, tuple[str, MetricUnit]] = {}
    for source, metrics in provided.items():
        for metric, unit in metrics.items():
            if metric in units:
                raise ConfigError(
                    f"stage {stage.stage}: metric {metric} is reported by both "
                    f"{units[metric][0]} and {source}"
                )
            units[metric] = (source, unit)
    return units


def _locate(stage: VerifyStage, metric: str, units: Mapping[str, tuple[str, MetricUnit]], what: str) -> tuple[str, MetricUnit]:
    if metric not in units:
        known = ", ".join(sorted(units)) or "nothing"
        raise ConfigError(
            f"stage {stage.stage}: {what} {metric}, which none of its sources reports "
            f"(they report {known})"
        )
    return units[metric]


def _pick(mine: int | None, default: int) -> int:
    return default if mine is None else mine


def stage_rules(stage: VerifyStage, units: Mapping[str, tuple[str, MetricUnit]]) -> list[Rule]:
    """The stage's checks as rules; a metric no source reports, or a condition in the
    wrong unit, is a ConfigError."""
    unknown = sorted(set(stage.per_metric) - set(stage.check))
    if unknown:
        raise ConfigError(f"stage {stage.stage}: per_metric names unchecked metrics {unknown}")
    rules: list[Rule] = []
    for metric, text in stage.check.items():
        source, unit = _locate(stage, metric, units, "checks")
        own = stage.per_metric.get(metric) or MetricSettings()
        floor = 0.0 if own.floor is None else parse_value(metric, own.floor, unit)
        rules.append(
            Rule(
                metric=metric,
                unit=unit,
                source=source,
                condition=Condition.parse(metric, text, unit),
                floor=floor,
                no_data=own.no_data or stage.no_data,
                inconclusive_limit=_pick(own.inconclusive_limit, stage.inconclusive_limit),
                error_limit=_pick(own.error_limit, stage.error_limit),
                min_samples=_pick(own.min_samples, stage.min_samples),
                dry_run=stage.dry_run or bool(own.dry_run),
            )
        )
    return rules


def stage_triggers(
    stage: VerifyStage, when: Mapping[str, str], units: Mapping[str, tuple[str, MetricUnit]]
) -> list[Rule]:
    """The ``rollback.when`` conditions this stage's sources can evaluate."""
    triggers: list[Rule] = []
    for metric, text in when.items():
        if metric not in units:
            continue
        source, unit = units[metric]
        triggers.append(
            Rule(
                metric=metric,
                unit=unit,
                source=source,
                condition=Condition.parse(metric, text, unit),
                floor=0.0,
                no_data="pass",
                inconclusive_limit=0,
                error_limit=stage.error_limit,
                min_samples=stage.min_samples,
                dry_run=stage.dry_run,
            )
        )
    return triggers


def fixed_baseline(stage: VerifyStage, units: Mapping[str, tuple[str, MetricUnit]]) -> dict[str, float]:
    """The stage's ``baseline:`` values in each metric's unit."""
    return {
        metric: parse_value(metric, text, _locate(stage, metric, units, "has a baseline for")[1])
        for metric, text in stage.baseline.items()
    }
