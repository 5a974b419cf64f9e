"""The public face of verification: what the engine, the service layer and the CLI call.

Run the stages of a deployment::

    sources = RegistrySources(registry, ctx)            # ctx: the environment's StepContext
    baseline = Baseline.from_records(store.list_samples(prev.id), version=prev.version,
                                     deployment_id=prev.id)          # or None: first deploy
    result = await run_stages(
        env.verify, sources=sources, baseline=baseline, rollback_when=env.rollback.when,
        on_sample=lambda s: store.add_sample(deployment_id=d, stage=s.stage,
                                             at=s.at_datetime, values=s.to_record()),
        on_progress=show, resume=[StageSample.from_record(r) for r in store.list_samples(d)],
    )
    result.action    # "continue" | "rollback" | "pause" (ask result.confirm_by)
    result.to_json() # record it with the decision

Chart the samples: ``render_chart(samples, thresholds_of(env.verify), baseline, path)``.
"""

from __future__ import annotations

from releasegate.verify.baseline import Baseline, Figure
from releasegate.verify.chart import render_chart, thresholds_of
from releasegate.verify.result import (
    Action,
    Finding,
    Outcome,
    StageResult,
    Verdict,
    VerificationResult,
)
from releasegate.verify.run import StageProgress, run_stages
from releasegate.verify.samples import StageSample
from releasegate.verify.sources import (
    Clock,
    OpenSource,
    RegistrySources,
    SourceFactory,
    SystemClock,
)
from releasegate.verify.validate import check_stages

__all__ = [
    "Action",
    "Baseline",
    "Clock",
    "Figure",
    "Finding",
    "OpenSource",
    "Outcome",
    "RegistrySources",
    "SourceFactory",
    "StageProgress",
    "StageResult",
    "StageSample",
    "SystemClock",
    "Verdict",
    "VerificationResult",
    "check_stages",
    "render_chart",
    "run_stages",
    "thresholds_of",
]
