"""Verification keys in releasegate.yaml: located errors, and the check against drivers."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.config.loader import load_config
from releasegate.config.models import VerifyStage
from releasegate.drivers.api import load_registry
from releasegate.errors import ConfigError
from releasegate.verify.api import check_stages

CONFIG = """\
project: shop
environments:
  staging:
    url: http://127.0.0.1:8000
    verify:
      - stage: immediate
        for: 5m
        check: {error_rate: "< 1%", p95: "fast"}
    rollback: {when: {error_rate: "> 5 percent"}}
"""


def test_a_bad_condition_is_located_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "releasegate.yaml"
    path.write_text(CONFIG)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert f"{path}:8:" in text
    assert "'fast' is not a condition (write e.g. < 1%, < 200ms, < 2x baseline, == 0)" in text
    assert f"{path}:9:" in text
    assert "'> 5 percent' is not a condition" in text


def _stage(**raw: object) -> VerifyStage:
    return VerifyStage.model_validate({"stage": "immediate", "for": "5m", **raw})


def test_check_stages_names_every_problem_before_anything_runs() -> None:
    stages = [
        _stage(check={"p95": "< 500ms", "cpu": "< 70%"}),
        _stage(stage="resources", source="system", check={"cpu": "< 1s"}),
        _stage(stage="metrics", source="graphite"),
        _stage(stage="prom", source="prometheus", **{"with": {"url": "http://x"}}),
    ]
    problems = check_stages(stages, registry=load_registry(), rollback_when={"error_rate": "> 5%", "queue": "> 9"})
    assert problems == [
        (0, "stage immediate: checks cpu, which none of its sources reports (they report error_rate, "
            "max, mean, p50, p90, p95, p99, requests, slip, slip_p99)"),
        (1, "cpu: '< 1s' does not apply: cpu is in %"),
        (2, "no metric source named 'graphite' (known: log-scan, postgres, probe, prometheus, redis, sentry, system)"),
        (3, "source prometheus: queries: Field required"),
        (-1, "rollback.when: no stage's sources report queue"),
    ]


def test_a_sound_stage_has_no_problems() -> None:
    stage = _stage(check={"p95": "< 2x baseline", "cpu": "< 70%"}, sources={"system": {"env": {"APP": "shop"}}},
                   baseline={"p95": "120ms"}, per_metric={"p95": {"floor": "50ms", "no_data": "fail"}})  # fmt: skip
    assert check_stages([stage], registry=load_registry(), rollback_when={"p95": "> 3x baseline"}) == []
