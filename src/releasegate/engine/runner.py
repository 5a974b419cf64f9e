"""Drives one deployment through its phases: gates → deploy → verify → post, with
rollback on failure, an environment lease with a heartbeat, and clean cancellation."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from pydantic import JsonValue

from releasegate.engine.dag import PhaseResult, run_phase
from releasegate.engine.plan import TARGET_STEP, PlannedStep
from releasegate.engine.rollback import roll_back
from releasegate.engine.steps import Runtime, StepOutcome, execute_step
from releasegate.errors import LockedError

FINAL = (
    "succeeded",
    "failed",
    "rolled_back",
    "rollback_failed",
    "cancelled",
    "checked",
    "check_failed",
    "blocked",
)


@dataclass(frozen=True)
class Outcome:
    """How a deployment ended."""

    deployment_id: int
    status: str
    detail: str = ""


@dataclass(frozen=True)
class Progress:
    """Where a deployment is, for resume: step ids already done, and those attempted."""

    done: frozenset[str] = frozenset()
    deploy_attempted: tuple[str, ...] = ()
    undone: tuple[str, ...] = ()
    deploy_started: bool = False


class LeaseLost(Exception):
    """Another process took this deployment's lease: this one must stop touching it."""


async def heartbeat(rt: Runtime, *, ttl_s: float) -> None:
    """Renew the lease every third of its ttl until cancelled."""
    while True:
        await asyncio.sleep(ttl_s / 3)
        try:
            rt.store.heartbeat(
                rt.plan.environment,
                deployment_id=rt.deployment_id,
                ttl_s=ttl_s,
                holder=rt.holder or None,
                token=rt.token,
            )
        except LockedError as exc:
            rt.reporter.event("lock.lost", {"detail": str(exc)})
            raise


def _watch(beat: asyncio.Task[None], main: asyncio.Task[object] | None, lost: list[str]) -> None:
    """When the heartbeat fails (the lease was taken), stop the deployment's own task."""

    def done(task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None or main is None:
            return
        lost.append(str(task.exception()))
        main.cancel()

    beat.add_done_callback(done)


def _skip(rt: Runtime) -> object:
    def on_skip(step: PlannedStep, reason: str) -> StepOutcome:
        run = rt.store.start_step(rt.deployment_id, step_id=step.id, phase=step.phase, attempt=1, token=rt.token)
        rt.store.finish_step(run.id, status="skipped", summary=reason, token=rt.token)
        rt.reporter.event("step.finished", {"step": step.id, "status": "skipped", "summary": reason})
        return StepOutcome(step.id, "skipped", reason)

    return on_skip


async def _phase(
    rt: Runtime, name: str, steps: tuple[PlannedStep, ...], done: Collection[str]
) -> PhaseResult:
    if steps:
        rt.store.append_event("phase.started", {"phase": name}, deployment_id=rt.deployment_id)
        rt.reporter.event("phase.started", {"phase": name})

    async def run(step: PlannedStep) -> StepOutcome:
        return await execute_step(rt, step)

    on_skip = _skip(rt)
    return await run_phase(
        steps,
        run,
        concurrency=rt.plan.concurrency if name == "gates" else 1,
        already_done=done,
        on_skip=on_skip,  # type: ignore[arg-type]
    )


def _finish(rt: Runtime, status: str, detail: str) -> Outcome:
    # the final status and the lease's release are one write: a kill -9 between them
    # cannot leave a finished deployment holding its environment
    rt.store.set_deployment_status(
        rt.deployment_id, status, detail=detail, token=rt.token, release_lock=status in FINAL
    )
    _left_running(rt)
    rt.reporter.event("deployment.finished", {"id": rt.deployment_id, "status": status, "detail": detail})
    return Outcome(rt.deployment_id, status, detail)


def _left_running(rt: Runtime) -> None:
    """Record the processes the deployment's steps started that still run — other than
    what its target started (serving the release is the target's purpose)."""
    from releasegate.leftovers import survivors

    targets = {s.id for s in rt.plan.all_steps() if s.uses == TARGET_STEP}
    mine = survivors(rt.deployment_id, host_marker=f"RELEASEGATE_RUN={rt.run}")
    left = [(pid, step, cmd) for pid, step, cmd in mine if step not in targets]
    if not left:
        return
    data: dict[str, JsonValue] = {
        "processes": [{"pid": pid, "step": step, "command": cmd} for pid, step, cmd in left]
    }
    rt.store.append_event("deployment.left_running", data, deployment_id=rt.deployment_id)
    rt.reporter.event("deployment.left_running", data)


def _attempted(rt: Runtime) -> list[str]:
    seen: list[str] = []
    for run in rt.store.list_step_runs(rt.deployment_id):
        if run.phase == "deploy" and run.status != "skipped" and run.step_id not in seen:
            seen.append(run.step_id)
    return seen


BeforeDeploy = Callable[[], Awaitable[str | None]]
"""Called under the lease after the gates, right before the deploy phase: returns why the
deployment must stop (it ends ``blocked``, nothing changed), or None to go on."""


async def drive(
    rt: Runtime,
    *,
    progress: Progress = Progress(),
    lease_ttl_s: float = 30.0,
    before_deploy: BeforeDeploy | None = None,
) -> Outcome:
    """Run (or continue) the deployment of ``rt`` to a final status."""
    beat = asyncio.ensure_future(heartbeat(rt, ttl_s=lease_ttl_s))
    lost: list[str] = []
    _watch(beat, asyncio.current_task(), lost)
    deploy_started = progress.deploy_started
    try:
        rt.store.set_deployment_status(rt.deployment_id, "running", token=rt.token)
        rt.reporter.event("deployment.started", {"id": rt.deployment_id, "plan": rt.plan.to_json()})
        gates = await _phase(rt, "gates", rt.plan.gates, progress.done)
        if not gates.ok:
            assert gates.failed is not None
            return _finish(rt, "failed", f"gate {gates.failed.step_id} failed: {gates.failed.summary}")
        if before_deploy is not None and not progress.deploy_started:
            refused = await before_deploy()
            if refused is not None:
                return _finish(rt, "blocked", refused)
        deploy_started = True
        deploy = await _phase(rt, "deploy", rt.plan.deploy, progress.done)
        if not deploy.ok:
            assert deploy.failed is not None
            return await _after_failure(rt, "deploy", deploy)
        if rt.plan.verify:
            rt.store.append_event("phase.started", {"phase": "verify"}, deployment_id=rt.deployment_id)
            rt.reporter.event("phase.started", {"phase": "verify"})
            from releasegate.engine.verify_phase import run_verify  # only when there is a stage

            decision = await run_verify(rt)
            if decision.action == "rollback":
                return await _verify_failed(rt, decision.detail)
        post = await _phase(rt, "post", rt.plan.post, progress.done)
        if not post.ok:
            return await _after_failure(rt, "post", post)
        return _finish(rt, "succeeded", "")
    except asyncio.CancelledError:
        if lost:  # someone else owns this deployment now: record nothing more, act no more
            raise LockedError(f"stopped: {lost[0]}") from None
        await asyncio.shield(_cancelled(rt, deploy_started=deploy_started))
        raise
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError, LockedError):
            await beat
        if not lost:  # a lost lease belongs to its new holder
            with contextlib.suppress(LockedError):
                rt.store.release_lock(
                    rt.plan.environment, deployment_id=rt.deployment_id, token=rt.token
                )


async def _after_failure(rt: Runtime, phase: str, result: PhaseResult) -> Outcome:
    assert result.failed is not None
    failed = result.failed
    detail = f"{phase} step {failed.step_id} failed: {failed.summary}"
    env = rt.config.environments[rt.plan.environment]
    if result.on_failure == "rollback" and env.rollback.automatic:
        ok = await roll_back(rt, _attempted(rt), reason=detail)
        return _finish(rt, "rolled_back" if ok else "rollback_failed", detail)
    return _finish(rt, "failed", detail)


async def _verify_failed(rt: Runtime, detail: str) -> Outcome:
    # verification always acts by rolling back (its on_fail: pause already waited for a
    # person); only rollback.automatic: false leaves it to one
    env = rt.config.environments[rt.plan.environment]
    if env.rollback.automatic:
        ok = await roll_back(rt, _attempted(rt), reason=detail)
        return _finish(rt, "rolled_back" if ok else "rollback_failed", detail)
    return _finish(rt, "failed", detail)


async def _cancelled(rt: Runtime, *, deploy_started: bool) -> None:
    env = rt.config.environments[rt.plan.environment]
    detail = "cancelled by the user"
    if deploy_started and env.rollback.automatic and _attempted(rt):
        ok = await roll_back(rt, _attempted(rt), reason=detail)
        detail += "; rolled back" if ok else "; rollback FAILED: a person must act"
    _finish(rt, "cancelled", detail)


async def continue_rollback(
    rt: Runtime,
    progress: Progress,
    *,
    reason: str,
    lease_ttl_s: float = 30.0,
    to_version: str | None = None,
    statuses: tuple[str, str] = ("rolled_back", "rollback_failed"),
) -> Outcome:
    """Run (or finish) the rollback procedure; ``statuses`` are the final statuses for
    success and failure (a manual rollback deployment *succeeds*)."""
    beat = asyncio.ensure_future(heartbeat(rt, ttl_s=lease_ttl_s))
    try:
        ok = await roll_back(
            rt,
            list(progress.deploy_attempted),
            reason=reason,
            to_version=to_version,
            already_undone=progress.undone,
        )
        return _finish(rt, statuses[0] if ok else statuses[1], reason)
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError, LockedError):
            await beat
        with contextlib.suppress(LockedError):
            rt.store.release_lock(
                rt.plan.environment, deployment_id=rt.deployment_id, token=rt.token
            )


async def run_gates_only(rt: Runtime) -> Outcome:
    """``releasegate check``: the gates, recorded, and nothing else."""
    rt.store.set_deployment_status(rt.deployment_id, "running", token=rt.token)
    rt.reporter.event("deployment.started", {"id": rt.deployment_id, "plan": rt.plan.to_json()})
    try:
        gates = await _phase(rt, "gates", rt.plan.gates, ())
    except asyncio.CancelledError:
        _finish(rt, "cancelled", "check cancelled by the user")
        raise
    if gates.ok:
        return _finish(rt, "checked", f"{len(rt.plan.gates)} gates passed")
    assert gates.failed is not None
    return _finish(rt, "check_failed", f"gate {gates.failed.step_id} failed: {gates.failed.summary}")
