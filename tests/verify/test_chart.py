"""Charts of a real probe run: latency percentiles and error rate, thresholds, baseline."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from releasegate.config.models import VerifyStage
from releasegate.drivers.api import load_registry
from releasegate.errors import ConfigError
from releasegate.testing import make_context
from releasegate.verify.api import (
    Baseline,
    RegistrySources,
    StageProgress,
    StageSample,
    render_chart,
    run_stages,
    thresholds_of,
)
from verify.fault_server import FaultServer


def test_a_chart_of_a_run_that_went_bad_is_drawn_with_its_thresholds(fault_server: FaultServer, tmp_path: Path) -> None:
    stages = [
        VerifyStage.model_validate({"stage": "immediate", "for": 1, "every": 0.5, "with": {"rate": 40, "slip_tolerance": "100ms"},
                                    "check": {"error_rate": "< 1%", "p95": "< 200ms"}}),
        VerifyStage.model_validate({"stage": "short-term", "for": 2, "every": 0.5, "with": {"rate": 40, "slip_tolerance": "100ms"},
                                    "check": {"error_rate": "< 5%", "p95": "< 3x baseline"}}),
    ]  # fmt: skip
    sources = RegistrySources(load_registry(), make_context(url=fault_server.url))
    fault_server.delay = 0.01
    before: list[StageSample] = []
    asyncio.run(run_stages(stages, sources=sources, baseline=None, on_sample=before.append))
    baseline = Baseline.from_samples(before, version="1.2.0", deployment_id=3)

    def go_bad(p: StageProgress) -> None:
        if p.stage == "short-term" and p.done == 1:
            fault_server.error_every = 3

    samples: list[StageSample] = []
    result = asyncio.run(run_stages(stages, sources=sources, baseline=baseline, on_sample=samples.append,
                                    on_progress=go_bad))  # fmt: skip
    assert result.action == "rollback"
    png = render_chart(samples, thresholds_of(stages), baseline, tmp_path / "out.png", result=result,
                       title="staging 1.2.1 against 1.2.0")  # fmt: skip
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = render_chart(samples, thresholds_of(stages), baseline, tmp_path / "charts" / "out.svg")
    text = svg.read_text()
    for label in ("immediate", "short-term", "p95 &lt; 3x baseline", "error_rate &lt; 5%", "latency (ms)"):
        assert label in text, label


def test_a_chart_needs_samples_and_a_known_format(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"out.jpg: a chart is written as .png or .svg"):
        render_chart([], {}, None, tmp_path / "out.jpg")
    with pytest.raises(ConfigError, match="no samples to chart: nothing was measured"):
        render_chart([], {}, None, tmp_path / "out.png")
