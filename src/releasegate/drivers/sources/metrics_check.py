"""``metrics-check`` (a step): read metric sources once and check absolute conditions.

The checklist's "Check system resources" before a release, with the same sources that
verify after it::

    - id: resources
      uses: metrics-check
      with:
        sources: {system: {}, postgres: {dsn: "${env:DATABASE_URL}"}, redis: {url: "${env:REDIS_URL}"}}
        check: {host_cpu: "< 70%", host_memory: "< 80%", pg_connections_pct: "< 80%", redis_memory_pct: "< 80%"}
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from pydantic import Field, JsonValue

from releasegate.config.models import Condition, NoData, VerifyStage
from releasegate.config.types import Duration
from releasegate.drivers.api import Options, StepContext, StepResult, load_registry
from releasegate.errors import ConfigError
from releasegate.verify.run import run_stages
from releasegate.verify.samples import StageSample
from releasegate.verify.sources import RegistrySources


class MetricsCheckOptions(Options):
    """Options of ``metrics-check``."""

    sources: dict[str, dict[str, JsonValue]] = Field(
        min_length=1, description="Source name → its options, e.g. {system: {}}."
    )
    check: dict[str, Condition] = Field(
        min_length=1, description='Metric → absolute condition, e.g. host_cpu: "< 70%".'
    )
    seconds: Duration = Field(
        timedelta(seconds=5), description="How long the sources observe (CPU is measured over it)."
    )
    no_data: NoData = Field("fail", description="How a metric without data counts.")


class MetricsCheck:
    """One interval of a verification stage, as a gate."""

    name: ClassVar[str] = "metrics-check"
    Options: ClassVar[type[MetricsCheckOptions]] = MetricsCheckOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: MetricsCheckOptions, ctx: StepContext) -> StepResult:
        relative = [m for m, c in options.check.items() if "baseline" in c]
        if relative:
            return StepResult(ok=False, summary=f"metrics-check: {relative[0]}: a gate checks absolute conditions only")
        (first, first_options), *rest = options.sources.items()
        seconds = options.seconds.total_seconds()
        stage = VerifyStage.model_validate({
            "stage": "metrics-check", "for": seconds, "every": seconds, "check": options.check,
            "source": first, "with": first_options, "sources": dict(rest), "no_data": options.no_data,
            "error_limit": 0,
        })  # fmt: skip
        samples: list[StageSample] = []
        try:
            result = await run_stages([stage], sources=RegistrySources(load_registry(), ctx),
                                      baseline=None, on_sample=samples.append)  # fmt: skip
        except ConfigError as exc:
            return StepResult(ok=False, summary=f"metrics-check: {exc}")
        values: dict[str, JsonValue] = {}
        for sample in samples:
            values.update({k: v for k, v in sample.values.items() if k in options.check})
        shown = ", ".join(f"{k} {v:.4g}" for k, v in values.items() if isinstance(v, float))
        ok = result.verdict == "pass"
        summary = shown if ok else ctx.secrets.redact(result.reason)
        return StepResult(ok=ok, summary=summary, evidence={"values": values, "check": dict(options.check),
                                                            "verification": result.to_json()})  # fmt: skip
