"""Checking verification config against the drivers, before anything runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import ValidationError

from releasegate.config.models import VerifyStage
from releasegate.drivers.api import MetricUnit, Registry, UnknownDriver
from releasegate.errors import ConfigError
from releasegate.verify.rules import (
    fixed_baseline,
    stage_rules,
    stage_sources,
    stage_triggers,
    units_of,
)


def check_stages(
    stages: Sequence[VerifyStage], *, registry: Registry, rollback_when: Mapping[str, str]
) -> list[tuple[int, str]]:
    """Problems of ``stages`` as ``(stage index, message)``: an unknown source, options a
    source refuses, a checked metric no source reports, a condition in the wrong unit, a
    ``rollback.when`` metric no stage reports."""
    problems: list[tuple[int, str]] = []
    reported: set[str] = set()
    for i, stage in enumerate(stages):
        try:
            provided: dict[str, Mapping[str, MetricUnit]] = {}
            for name, options in stage_sources(stage):
                driver = registry.source(name)
                try:
                    parsed = driver.Options.model_validate(options)
                except ValidationError as exc:
                    first = exc.errors()[0]
                    where = ".".join(str(p) for p in first["loc"]) or "options"
                    raise ConfigError(f"source {name}: {where}: {first['msg']}") from None
                provided[name] = driver.metrics(parsed)
            units = units_of(stage, provided)
            reported.update(units)
            stage_rules(stage, units)
            stage_triggers(stage, rollback_when, units)
            fixed_baseline(stage, units)
        except UnknownDriver as exc:
            problems.append((i, f"no metric source named {exc.name!r} (known: {', '.join(exc.known)})"))
        except ConfigError as exc:
            problems.append((i, str(exc)))
    if stages:
        for metric in sorted(set(rollback_when) - reported):
            problems.append((-1, f"rollback.when: no stage's sources report {metric}"))
    return problems
