"""The verify phase: watch the live release stage by stage and decide what happens next.

The plan's stages (capped on the emergency path, see ``engine/plan.py``) run through
:func:`releasegate.verify.api.run_stages`. Every sample is recorded before it is judged
(``Store.add_sample``), so a deployment killed mid-stage resumes that stage from what it
had measured. "Normal" is the previous successful deployment of the same environment that
kept samples. The decision maps onto the deployment:

* ``continue`` — on to the post steps;
* ``rollback`` — the caller runs the rollback procedure with the detail returned here
  (metric, interval, value, threshold, baseline);
* ``pause`` — a step run ``verify.STAGE`` waits for one of the stage's ``confirm_by``
  roles to ``releasegate confirm ID verify.STAGE``; without it by the deadline, rollback.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from pydantic import JsonValue

from releasegate.config.models import VerifyStage
from releasegate.config.types import format_duration
from releasegate.engine.steps import Runtime
from releasegate.verify.api import (
    Baseline,
    RegistrySources,
    StageProgress,
    StageSample,
    VerificationResult,
    run_stages,
)

CONFIRM_POLL_S = 0.5
"""How often a paused stage looks for its confirmation: a person waits at most this."""
BASELINE_LOOKBACK = 20
"""Successful deployments searched, newest first, for one that kept samples."""


@dataclass(frozen=True)
class VerifyDecision:
    """What the verify phase decided: ``continue``, or ``rollback`` because of ``detail``."""

    action: Literal["continue", "rollback"]
    detail: str = ""


def confirm_item(stage: str) -> str:
    """The item a person signs to let a paused stage go on: ``verify.STAGE``."""
    return f"verify.{stage}"


def planned_stages(rt: Runtime) -> list[VerifyStage]:
    """The environment's stages as the plan runs them (durations capped where it says)."""
    by_name = {s.stage: s for s in rt.env.verify}
    stages = []
    for planned in rt.plan.verify:
        stage = by_name[planned.stage]
        if planned.for_s < stage.for_.total_seconds():
            stage = stage.model_copy(update={"for_": timedelta(seconds=planned.for_s)})
        stages.append(stage)
    return stages


def previous_baseline(rt: Runtime) -> Baseline | None:
    """The samples of the newest successful deployment here that kept some, or None."""
    for dep in rt.store.list_deployments(
        environment=rt.plan.environment, status="succeeded", limit=BASELINE_LOOKBACK
    ):
        if dep.id == rt.deployment_id:
            continue
        rows = rt.store.list_samples(dep.id)
        if rows:
            return Baseline.from_records(rows, version=dep.version, deployment_id=dep.id)
    return None


def _progress_json(p: StageProgress) -> dict[str, JsonValue]:
    return {
        "stage": p.stage, "done": p.done, "planned": p.planned,
        "elapsed_s": round(p.elapsed_s, 3), "for_s": p.for_s,
        "values": dict(p.values), "checks": dict(p.checks),
        "outcomes": dict(p.outcomes), "replayed": p.replayed,
    }  # fmt: skip


def rollback_detail(result: VerificationResult, baseline: Baseline | None) -> str:
    """One line naming the metric, interval, value, threshold and baseline behind it."""
    found = result.trigger or result.decisive
    if found is None:
        return f"verification: {result.reason}"
    figure = found.baseline or (baseline.figure(found.metric) if baseline is not None else None)
    if figure is not None:
        base = f"baseline {figure.label}: {found.metric} {figure.value:g}"
    else:
        base = "no baseline: first verified release here"
    why = "rollback.when trigger" if result.trigger is not None else "verification failed"
    return f"{why}: {found.message}; {base}"


async def run_verify(rt: Runtime) -> VerifyDecision:
    """Run the plan's verification stages and decide; records every sample and stage."""
    stages = planned_stages(rt)
    if not stages:
        return VerifyDecision("continue")
    d = rt.deployment_id
    baseline = previous_baseline(rt)
    resume = [StageSample.from_record(r) for r in rt.store.list_samples(d)]
    started: dict[str, JsonValue] = {
        "stages": [s.stage for s in stages],
        "baseline": None if baseline is None else baseline.label,
        "baseline_deployment": None if baseline is None else baseline.deployment_id,
        "resumed_samples": len(resume),
    }
    rt.store.append_event("verify.started", started, deployment_id=d)
    rt.reporter.event("verify.started", started)
    sources = RegistrySources(rt.registry, rt.context("verify"))

    def on_sample(s: StageSample) -> None:
        rt.store.add_sample(deployment_id=d, stage=s.stage, at=s.at_datetime, values=s.to_record())

    def on_progress(p: StageProgress) -> None:
        rt.reporter.event("verify.progress", _progress_json(p))

    when = rt.env.rollback.when
    for stage in stages:
        begin: dict[str, JsonValue] = {
            "stage": stage.stage, "status": "started", "for_s": stage.for_.total_seconds(),
            "every_s": stage.every.total_seconds(), "checks": dict(stage.check),
        }  # fmt: skip
        rt.reporter.event("verify.stage", begin)
        result = await run_stages(
            [stage], sources=sources, baseline=baseline, rollback_when=when,
            on_sample=on_sample, on_progress=on_progress, resume=resume,
        )  # fmt: skip
        ended: dict[str, JsonValue] = {
            "stage": stage.stage, "status": "finished", "action": result.action,
            "verdict": result.verdict, "reason": result.reason, "result": result.to_json(),
        }  # fmt: skip
        rt.store.append_event("verify.stage", ended, deployment_id=d)
        rt.reporter.event("verify.stage", {k: v for k, v in ended.items() if k != "result"})
        if result.action == "rollback":
            return VerifyDecision("rollback", rollback_detail(result, baseline))
        if result.action == "pause" and not await _confirmed(rt, stage, result):
            return VerifyDecision(
                "rollback",
                f"{rollback_detail(result, baseline)}; nobody confirmed {confirm_item(stage.stage)} "
                f"within {format_duration(stage.confirm_within)}",
            )
    return VerifyDecision("continue")


async def _confirmed(rt: Runtime, stage: VerifyStage, result: VerificationResult) -> bool:
    """Hold the deployment until ``verify.STAGE`` is signed (True) or the deadline (False)."""
    item = confirm_item(stage.stage)
    who = " or ".join(stage.confirm_by) or "someone"
    run = rt.store.start_step(rt.deployment_id, step_id=item, phase="verify", attempt=1, token=rt.token)
    rt.reporter.event(
        "step.started", {"step": item, "phase": "verify", "attempt": 1, "title": f"confirm {item}"}
    )
    rt.reporter.event(
        "step.output",
        {"step": item, "line": f"{result.reason}: waiting for {who} to decide: "
         f"releasegate confirm {rt.deployment_id} {item} (else rollback in "
         f"{format_duration(stage.confirm_within)})"},
    )  # fmt: skip
    give_up = time.monotonic() + stage.confirm_within.total_seconds()
    try:
        while True:
            signed = next(
                (c for c in rt.store.list_confirmations(rt.deployment_id) if c.item == item), None
            )
            if signed is not None:
                summary = f"{item} confirmed by {signed.user}: verification goes on"
                status = "succeeded"
                break
            if time.monotonic() >= give_up:
                summary = f"{item} was not confirmed within {format_duration(stage.confirm_within)}"
                status = "failed"
                break
            await asyncio.sleep(min(CONFIRM_POLL_S, max(give_up - time.monotonic(), 0.0)))
    except asyncio.CancelledError:
        rt.store.finish_step(run.id, status="cancelled", summary="cancelled", token=rt.token)
        raise
    rt.store.finish_step(run.id, status=status, summary=summary, token=rt.token)
    rt.reporter.event("step.finished", {"step": item, "status": status, "summary": summary})
    return status == "succeeded"
