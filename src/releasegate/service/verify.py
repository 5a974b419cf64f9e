"""Verification outside and around deployments: ``releasegate verify ENV``, confirming a
paused stage (``releasegate confirm ID verify.STAGE``) and charting what was measured
(``releasegate show ID --chart``).

``verify`` runs an environment's stages against what is live now, outside any deployment:
it records its result as a ``verify.on_demand`` event (samples are kept only for
deployments) and rolls back only when asked to (``rollback=True``), through the ordinary
rollback use case.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import JsonValue

from releasegate.errors import PermissionDenied, UsageError
from releasegate.identity import Actor
from releasegate.service.auth import authorize
from releasegate.service.inputs import check_environment
from releasegate.service.results import Done, Outcome
from releasegate.service.signing import Signer
from releasegate.service.workspace import Workspace

if TYPE_CHECKING:
    from releasegate.config.models import VerifyStage
    from releasegate.engine.report import Reporter
    from releasegate.verify.api import Baseline

CONFIRM_PREFIX = "verify."


@dataclass(frozen=True)
class VerifyReport:
    """What ``releasegate verify`` found, and the rollback it ran if asked and needed."""

    environment: str
    version: str | None
    """The version live when it ran (None: nothing recorded as live)."""
    action: str
    verdict: str
    reason: str
    detail: str
    """One line: the metric, interval, value, threshold and baseline behind a failure."""
    result: dict[str, JsonValue]
    rollback: Outcome | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment, "version": self.version, "action": self.action,
            "verdict": self.verdict, "reason": self.reason, "detail": self.detail,
            "result": self.result,
            "rollback": None if self.rollback is None else self.rollback.to_json(),
        }  # fmt: skip


def _stages(ws: Workspace, env: str, stage: str | None) -> list[VerifyStage]:
    stages = list(ws.config.environments[env].verify)
    if not stages:
        raise UsageError(f"environment {env!r} has no verify stages to run")
    if stage is None:
        return stages
    chosen = [s for s in stages if s.stage == stage]
    if not chosen:
        known = ", ".join(s.stage for s in stages)
        raise UsageError(f"--stage {stage!r}: {env} has no such verify stage (known: {known})")
    return chosen


def _baseline(ws: Workspace, env: str) -> Baseline | None:
    from releasegate.verify.api import Baseline

    for dep in ws.store.list_deployments(environment=env, status="succeeded", limit=20):
        rows = ws.store.list_samples(dep.id)
        if rows:
            return Baseline.from_records(rows, version=dep.version, deployment_id=dep.id)
    return None


def verify(
    ws: Workspace, actor: Actor, env: str, *, stage: str | None = None, rollback: bool = False,
    reporter: Reporter | None = None,
) -> VerifyReport:
    """Run ``env``'s verify stages (or just ``stage``) against what is live now and record
    the result; with ``rollback`` a failing verdict rolls ``env`` back."""
    from releasegate.drivers.api import Release, StepContext
    from releasegate.engine.facts import StoreFacts
    from releasegate.engine.report import NullReporter
    from releasegate.engine.verify_phase import rollback_detail
    from releasegate.service import deployments
    from releasegate.verify.api import RegistrySources, StageProgress, run_stages

    check_environment(list(ws.config.environments), env)
    if rollback:  # before minutes of measuring, not after
        authorize(ws.config, actor, "rollback")
    stages = _stages(ws, env, stage)
    environment = ws.config.environments[env]
    store = ws.store
    live = store.live_version(env)
    engine = ws.engine(actor)
    view = reporter or NullReporter()
    ctx = StepContext(
        release=Release(environment=env, version=live or "unknown"), deployment_id=0,
        workdir=engine.workdir, state_dir=engine.state_dir, url=environment.url,
        secrets=engine.secrets, facts=StoreFacts(store, 0),
        progress=lambda line: view.event(
            "step.output", {"step": "verify", "line": engine.secrets.redact(line)}
        ),
    )  # fmt: skip
    baseline = _baseline(ws, env)

    def on_progress(p: StageProgress) -> None:
        view.event("verify.progress", {
            "stage": p.stage, "done": p.done, "planned": p.planned, "elapsed_s": p.elapsed_s,
            "for_s": p.for_s, "values": dict(p.values), "checks": dict(p.checks),
            "outcomes": dict(p.outcomes),
        })  # fmt: skip

    view.event("verify.started", {"environment": env, "version": live,
                                  "stages": [s.stage for s in stages],
                                  "baseline": None if baseline is None else baseline.label})
    result = asyncio.run(run_stages(
        stages, sources=RegistrySources(engine.registry, ctx), baseline=baseline,
        rollback_when=environment.rollback.when, on_progress=on_progress,
    ))  # fmt: skip
    detail = "" if result.action == "continue" else rollback_detail(result, baseline)
    store.append_event("verify.on_demand", {
        "environment": env, "version": live, "by": actor.to_json(), "action": result.action,
        "detail": detail, "rollback_requested": rollback, "result": result.to_json(),
    })  # fmt: skip
    view.event("verify.finished", {"action": result.action, "reason": result.reason, "detail": detail})
    undone = None
    if rollback and result.verdict == "fail":
        undone = deployments.rollback(
            ws, actor, env, reason=f"releasegate verify: {detail}", reporter=reporter
        )
    return VerifyReport(
        environment=env, version=live, action=result.action, verdict=result.verdict,
        reason=result.reason, detail=detail, result=result.to_json(), rollback=undone,
    )  # fmt: skip


def confirm_stage(
    ws: Workspace, actor: Actor, id: int, item: str, *, note: str | None = None,
    signer: Signer | None = None,
) -> Done:
    """``actor`` lets deployment ``id`` go on past its paused stage (``item`` is
    ``verify.STAGE``); they must hold one of the stage's ``confirm_by`` roles."""
    authorize(ws.config, actor, "confirm")
    store = ws.store
    dep = store.get_deployment(id)
    if dep is None:
        raise UsageError(f"there is no deployment {id}")
    name = item.removeprefix(CONFIRM_PREFIX)
    env = ws.config.environments.get(dep.environment)
    stage = next((s for s in (env.verify if env else []) if s.stage == name), None)
    if stage is None:
        known = ", ".join(CONFIRM_PREFIX + s.stage for s in (env.verify if env else [])) or "none"
        raise UsageError(f"{item!r}: {dep.environment} has no such verify stage (known: {known})")
    if not actor.single_person and not actor.roles & set(stage.confirm_by):
        raise PermissionDenied(
            f"{actor.name} may not confirm {item!r}: it needs one of the roles "
            f"{', '.join(stage.confirm_by)} ({actor.name} holds "
            f"{', '.join(sorted(actor.roles)) or 'none'})"
        )
    from releasegate.service.signoffs import record_confirmation

    return record_confirmation(
        ws, actor, dep, item, note=note, signer=signer,
        text=f"{item} confirmed by {actor.name} for deployment {id}: verification goes on",
    )


def chart(ws: Workspace, actor: Actor, id: int, path: Path) -> Done:
    """Draw deployment ``id``'s recorded samples to ``path`` (``.svg`` or ``.png``) with
    its stages' thresholds and the baseline it was judged against."""
    from releasegate.verify.api import Baseline, StageSample, render_chart, thresholds_of

    store = ws.store
    dep = store.get_deployment(id)
    if dep is None:
        raise UsageError(f"there is no deployment {id}")
    samples = [StageSample.from_record(r) for r in store.list_samples(id)]
    if not samples:
        raise UsageError(f"deployment {id} kept no verification samples to chart")
    env = ws.config.environments.get(dep.environment)
    baseline = None
    started = store.list_events(deployment_id=id, types=("verify.started",))
    base_id = started[-1].data.get("baseline_deployment") if started else None
    if isinstance(base_id, int):
        base = store.get_deployment(base_id)
        rows = store.list_samples(base_id)
        if base is not None and rows:
            baseline = Baseline.from_records(rows, version=base.version, deployment_id=base_id)
    title = f"deployment {id}: {dep.version} to {dep.environment} ({dep.status})"
    written = render_chart(
        samples, thresholds_of(env.verify if env else []), baseline, path, title=title
    )
    return Done(id, f"chart of deployment {id} written to {written}",
                {"deployment": id, "path": str(written), "samples": len(samples)})
