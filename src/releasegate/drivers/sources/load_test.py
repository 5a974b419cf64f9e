"""``load-test`` (a step): the probe at a set rate for a set time, against thresholds and
against the previous release's load test.

The checklist's load test for major releases. Figures are those of the whole run (one
HDR histogram); ``check`` conditions may be absolute (``p95: "< 500ms"``) or relative to
the last passing load test of the previous version on this environment
(``p95: "< 1.2x baseline"``), kept under ``.releasegate/load-test/ENV.json``. Without an
earlier run, relative conditions are skipped and the result says so.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

from pydantic import Field, JsonValue

from releasegate.config.models import Condition, VerifyStage
from releasegate.config.types import Duration
from releasegate.drivers.api import StepContext, StepResult, load_registry
from releasegate.drivers.sources.probe import ProbeOptions
from releasegate.errors import ConfigError
from releasegate.verify.baseline import Baseline
from releasegate.verify.run import run_stages
from releasegate.verify.samples import StageSample
from releasegate.verify.sources import RegistrySources

_PROBE_KEYS = set(ProbeOptions.model_fields) - {"max_duration"}


class LoadTestOptions(ProbeOptions):
    """Options of ``load-test``: the probe's, plus how long and what must hold."""

    rate: float = Field(50.0, gt=0, le=5000, description="Requests per second (at most 5000).")
    duration: Duration = Field(
        timedelta(seconds=60), description="How long the load runs (at most 1h)."
    )
    check: dict[str, Condition] = Field(
        default_factory=lambda: {"error_rate": "< 1%", "p95": "< 500ms"},
        description='Metric → condition; "< 1.2x baseline" compares with the previous release.',
    )
    min_samples: int = Field(
        100, ge=1, description="Requests both runs need before a relative condition counts."
    )


def _figures_file(ctx: StepContext) -> Path:
    return ctx.state_dir / "load-test" / f"{ctx.release.environment}.json"


def _previous(ctx: StepContext) -> Baseline | None:
    """The last passing run of the previous version (else of any other version)."""
    try:
        runs = json.loads(_figures_file(ctx).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    passing = [r for r in runs if isinstance(r, dict) and r.get("ok") and r.get("version") != ctx.release.version]
    chosen = [r for r in passing if r.get("version") == ctx.release.previous_version] or passing
    if not chosen:
        return None
    run = chosen[-1]
    sample = StageSample(stage="load-test", source="probe", interval=0, at=float(run["at"]),
                         seconds=float(run["seconds"]), values=dict(run["values"]))  # fmt: skip
    return Baseline.from_samples([sample], version=f"load test of {run['version']}")


def _keep(ctx: StepContext, sample: StageSample, ok: bool) -> None:
    path = _figures_file(ctx)
    try:
        runs = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        runs = []
    runs.append({"version": ctx.release.version, "ok": ok, "at": sample.at, "seconds": sample.seconds,
                 "values": dict(sample.values)})  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(runs[-50:], indent=1), encoding="utf-8")


class LoadTest:
    """One interval of the probe as long as the test, judged like a verification stage."""

    name: ClassVar[str] = "load-test"
    Options: ClassVar[type[LoadTestOptions]] = LoadTestOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: LoadTestOptions, ctx: StepContext) -> StepResult:
        seconds = options.duration.total_seconds()
        if not 0 < seconds <= 3600:
            return StepResult(ok=False, summary=f"load-test: duration must be within 1h, not {options.duration}")
        probe = options.model_dump(include=_PROBE_KEYS, by_alias=True, mode="json")
        stage = VerifyStage.model_validate({
            "stage": "load-test", "for": seconds, "every": seconds, "check": options.check,
            "with": probe, "min_samples": options.min_samples, "no_data": "fail",
        })  # fmt: skip
        baseline = _previous(ctx)
        samples: list[StageSample] = []
        ctx.progress(f"load test: {options.rate:g} requests/s for {options.duration} against {options.url or ctx.url}")
        try:
            result = await run_stages([stage], sources=RegistrySources(load_registry(), ctx),
                                      baseline=baseline, on_sample=samples.append)  # fmt: skip
        except ConfigError as exc:
            return StepResult(ok=False, summary=f"load-test: {exc}")
        ok = result.verdict == "pass"
        figures = samples[-1].values if samples else {}
        if samples and samples[-1].error is None:
            _keep(ctx, samples[-1], ok)
        shown = ", ".join(f"{k} {v:.4g}" for k, v in figures.items() if k in options.check or k == "requests")
        notes = "; ".join(result.stages[0].notes) if result.stages else ""
        summary = f"{shown}" + (f"; {notes}" if notes else "")
        if not ok:
            summary = ctx.secrets.redact(result.reason)
        evidence: dict[str, JsonValue] = {
            "figures": {k: v for k, v in figures.items()},
            "check": dict(options.check),
            "baseline": baseline.to_json() if baseline else None,
            "verification": result.to_json(),
        }
        return StepResult(ok=ok, summary=summary, evidence=evidence)
