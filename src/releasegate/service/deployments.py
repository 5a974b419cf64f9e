"""Deployments: plan, check, deploy, rollback, resume, cancel, adopt.

``deploy`` in order: who may → plan → take the environment's lease (recording the
deployment) → read the policy facts and decide → record the decision → run the gates →
decide again right before the deploy phase → deploy → verify → post. A refusal under the
lease ends the deployment ``blocked`` before anything changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from releasegate.errors import PolicyDenied, UsageError
from releasegate.identity import Actor
from releasegate.service.auth import authorize
from releasegate.service.gate import Request, Verdict, decide
from releasegate.service.github import github_deployments, github_resumed
from releasegate.service.inputs import check_environment, check_id, check_kind, check_version
from releasegate.service.notifying import (
    Dispatcher,
    NotifyingReporter,
    notifications,
    notify_overdue,
)
from releasegate.service.results import Outcome
from releasegate.service.workspace import Workspace

if TYPE_CHECKING:
    from releasegate.engine.api import Engine, RollbackPreview
    from releasegate.engine.plan import Plan
    from releasegate.engine.report import Reporter

ACTIVE = ("pending", "running", "rolling_back", "interrupted")


def _outcome(engine_outcome: object, env: str, version: str) -> Outcome:
    return Outcome(
        deployment_id=getattr(engine_outcome, "deployment_id", None),
        status=str(getattr(engine_outcome, "status", "failed")),
        detail=str(getattr(engine_outcome, "detail", "")),
        environment=env,
        version=version,
    )


def _known_env(ws: Workspace, env: str) -> None:
    check_environment(list(ws.config.environments), env)


def make_plan(
    ws: Workspace,
    actor: Actor,
    env: str,
    version: str,
    *,
    kind: str = "normal",
    emergency: bool = False,
    flags: Collection[str] = (),
    reporter: Reporter | None = None,
) -> tuple[Engine, Plan]:
    """The engine and the plan of deploying ``version`` to ``env`` (nothing recorded)."""
    _known_env(ws, env)
    check_version(ws.config, version)
    check_kind(kind)
    engine = ws.engine(actor, reporter)
    return engine, engine.plan(env, version, kind, emergency=emergency, flags=flags)


def plan(
    ws: Workspace, actor: Actor, env: str, version: str, *, kind: str = "normal",
    flags: Collection[str] = (),
) -> tuple[Plan, Verdict]:
    """The dry run: the plan, and what policy would say now (advice: nothing is held)."""
    _, the_plan = make_plan(ws, actor, env, version, kind=kind, flags=flags)
    verdict = decide(ws.config, ws.store, actor, Request(env, version, kind))
    return the_plan, verdict


def rollback_preview(ws: Workspace, actor: Actor, env: str, *, to: str | None) -> RollbackPreview:
    """What ``rollback`` would undo, to which version, and how long it took before."""
    _known_env(ws, env)
    if to is not None:
        check_version(ws.config, to)
    return ws.engine(actor).rollback_preview(env, to=to)


def _refuse(ws: Workspace, verdict: Verdict, deployment_id: int | None = None) -> PolicyDenied:
    data = dict(verdict.record)
    ws.store.append_event("deployment.blocked", data, deployment_id=deployment_id)
    return PolicyDenied(verdict.summary(), explanation=verdict.decision.explain())


def check(
    ws: Workspace, actor: Actor, env: str, version: str, *, kind: str = "normal",
    flags: Collection[str] = (), reporter: Reporter | None = None,
) -> Outcome:
    """The policy and the gates only; nothing is deployed (recorded as a check)."""
    authorize(ws.config, actor, "deploy")
    _known_env(ws, env)
    check_version(ws.config, version)
    check_kind(kind)
    engine = ws.engine(actor, reporter)
    the_plan = engine.plan(env, version, kind, flags=flags, signatures=False)
    verdict = decide(ws.config, ws.store, actor, Request(env, version, kind))
    if not verdict.allowed:
        _report_blocked(engine, verdict, None)
        raise _refuse(ws, verdict)
    return _outcome(asyncio.run(engine.check(the_plan)), env, version)


def _report_blocked(engine: Engine, verdict: Verdict, deployment_id: int | None) -> None:
    engine.reporter.event(
        "deployment.blocked",
        {"id": deployment_id, "summary": verdict.summary(), "policy": verdict.record},
    )


def deploy(
    ws: Workspace,
    actor: Actor,
    env: str,
    version: str,
    *,
    kind: str = "normal",
    emergency: bool = False,
    reason: str | None = None,
    override_freeze: bool = False,
    overrides: Sequence[str] = (),
    flags: Collection[str] = (),
    reporter: Reporter | None = None,
    confirm: Callable[[Plan], bool] | None = None,
    fixes: int | None = None,
) -> Outcome:
    """Deploy ``version`` to ``env``: gates, deploy steps, verification, rollback on failure.

    ``overrides`` names policy rules to go past (break-glass: needs the ``override``
    permission and a ``reason``). ``confirm`` is asked with the plan before anything is
    recorded (an interactive "are you sure?"); False ends it with status ``cancelled``
    and no record. ``fixes`` names an earlier deployment this hotfix repairs: it is linked
    as a failure (``--fixes``; the kind becomes ``hotfix``)."""
    if emergency and not reason:
        raise UsageError("--emergency needs --reason TEXT (it is recorded)")
    if overrides and not (reason and reason.strip()):
        raise UsageError("--override needs --reason TEXT (who went past policy, and why, is recorded)")
    if (emergency or fixes is not None) and kind == "normal":
        kind = "hotfix"
    authorize(ws.config, actor, "deploy")
    if fixes is not None:
        _check_fixes(ws, env, kind, fixes)
    if overrides:
        authorize(ws.config, actor, "override")
    request = Request(
        env, version, kind, emergency=emergency, override_freeze=override_freeze,
        overrides=tuple(overrides), reason=reason,
    )
    with notifications(ws) as dispatcher:
        if dispatcher is not None:
            notify_overdue(ws, dispatcher)
            reporter = _notifying(ws, actor, reporter, dispatcher, env, version, kind, hold_success=True)
        notifying = reporter
        try:
            with github_deployments(ws, env, reporter) as reporter:
                return _deploy(ws, actor, request, flags=flags, reporter=reporter, confirm=confirm, fixes=fixes)
        finally:
            if isinstance(notifying, NotifyingReporter):  # "succeeded" goes out with the announcement
                from releasegate.service.metrics import announcement_or_none

                notifying.release_held(lambda dep_id: announcement_or_none(ws, dep_id))


def _notifying(
    ws: Workspace, actor: Actor, reporter: Reporter | None, dispatcher: Dispatcher, env: str,
    version: str, kind: str, *, hold_success: bool = False,
) -> Reporter:
    return NotifyingReporter(
        reporter, dispatcher,
        deployment={"environment": env, "version": version, "kind": kind, "user": actor.name},
        confirmations={c.id: c.text for c in ws.config.confirmations}, hold_success=hold_success,
    )


def _deploy(
    ws: Workspace, actor: Actor, request: Request, *, flags: Collection[str],
    reporter: Reporter | None, confirm: Callable[[Plan], bool] | None, fixes: int | None,
) -> Outcome:
    env, version, kind, emergency = request.environment, request.version or "", request.kind, request.emergency
    engine, the_plan = make_plan(
        ws, actor, env, version, kind=kind, emergency=emergency, flags=flags, reporter=reporter
    )
    advice = decide(ws.config, ws.store, actor, request)
    if not advice.allowed:  # refuse early, without taking the lease, when it is clear
        _report_blocked(engine, advice, None)
        raise _refuse(ws, advice)
    if confirm is not None and not confirm(the_plan):
        return Outcome(None, "cancelled", "not confirmed", env, version)
    return asyncio.run(_deploy_under_lease(ws, engine, actor, the_plan, request, fixes))


def _check_fixes(ws: Workspace, env: str, kind: str, fixes: int) -> None:
    if kind != "hotfix":
        raise UsageError(f"--fixes: a {kind} deployment fixes nothing; only a hotfix does (--kind hotfix)")
    broken = ws.store.get_deployment(fixes)
    if broken is None:
        raise UsageError(f"--fixes: there is no deployment {fixes}")
    if broken.environment != env:
        raise UsageError(f"--fixes: deployment {fixes} went to {broken.environment}, not {env}")


def _record_start(ws: Workspace, dep_id: int, the_plan: Plan) -> None:
    """The project and release facts, never fatal: what is missing is recorded (a
    ``release.incomplete`` event), not shown, so the live view keeps its shape."""
    from releasegate.errors import ReleasegateError
    from releasegate.service.releases import record_start

    try:
        record_start(ws, dep_id, the_plan)
    except ReleasegateError as exc:
        ws.store.append_event("release.incomplete", {"reason": f"release facts not recorded: {exc}"},
                              deployment_id=dep_id)


async def _deploy_under_lease(
    ws: Workspace, engine: Engine, actor: Actor, the_plan: Plan, request: Request,
    fixes: int | None = None,
) -> Outcome:
    dep = engine.begin(the_plan, reason=request.reason, emergency=request.emergency)
    _record_start(ws, dep.id, the_plan)
    verdict = decide(ws.config, ws.store, actor, request)
    ws.store.append_event("policy.decision", verdict.record, deployment_id=dep.id)
    if verdict.overridden:
        ws.store.append_event(
            "policy.override",
            {"rules": list(verdict.overridden), "reason": request.reason, "actor": actor.to_json()},
            deployment_id=dep.id,
        )
    if not verdict.allowed:
        _report_blocked(engine, verdict, dep.id)
        done = engine.end(dep.id, request.environment, "blocked", verdict.summary())
        return Outcome(
            done.deployment_id, "blocked", done.detail, request.environment, request.version or "",
            policy=verdict.record, explanation=verdict.decision.explain(),
        )

    async def before_deploy() -> str | None:
        again = decide(ws.config, ws.store, actor, request)
        if again.allowed:
            return None
        ws.store.append_event("policy.decision", again.record, deployment_id=dep.id)
        _report_blocked(engine, again, dep.id)
        return again.summary() + " (decided again before the deploy phase)"

    if fixes is not None:
        ws.store.link_failure(fixes, cause="hotfix", user=actor.name, fixed_by=dep.id,
                              note=request.reason)
    outcome = await engine.run(the_plan, dep.id, before_deploy=before_deploy)
    result = _outcome(outcome, request.environment, the_plan.version)
    _record_end(ws, actor, dep.id, result)
    if result.status == "succeeded" and (request.emergency or request.kind == "hotfix"):
        _open_obligations(ws, dep.id)
    elif result.status in ("rolled_back", "rollback_failed"):
        _open_obligations(ws, dep.id, kinds=("postmortem",))
    return _anchored(ws, engine, result)


def _record_end(ws: Workspace, actor: Actor, dep_id: int, result: Outcome) -> None:
    from releasegate.errors import ReleasegateError
    from releasegate.service.releases import record_end

    try:
        record_end(ws, actor.name, dep_id, result.status, result.detail)
    except ReleasegateError as exc:  # the deployment's own record is complete already
        ws.store.append_event("release.incomplete", {"reason": str(exc)}, deployment_id=dep_id)


def _anchored(ws: Workspace, engine: Engine, result: Outcome) -> Outcome:
    """After a deployment: verification samples past ``samples.keep`` are pruned (each
    environment's baseline kept), and the chain head is anchored outside the database."""
    from releasegate.service.records import anchor_after

    _prune_samples(ws)
    problem = anchor_after(ws)
    if problem is not None:
        engine.reporter.event("audit.not_anchored", {"detail": problem})
    return result


def _prune_samples(ws: Workspace) -> None:
    baselines = {
        dep.id
        for env in ws.config.environments
        if (dep := ws.store.last_successful(env)) is not None
    }
    ws.store.prune_samples(before=datetime.now(UTC) - ws.config.samples.keep, keep=baselines)


def _open_obligations(
    ws: Workspace, deployment_id: int, kinds: tuple[str, ...] = ("monitor", "postmortem")
) -> None:
    """After an emergency deployment: close monitoring and a post-mortem, with deadlines;
    after a rollback: the post-mortem. The deployment's user owns them."""
    from releasegate.policy.api import emergency_obligations

    for o in emergency_obligations(ws.config, datetime.now(UTC)):
        if o.kind in kinds:
            ws.store.add_obligation(deployment_id=deployment_id, kind=o.kind, text=o.text, due_at=o.due_at)


def rollback(
    ws: Workspace, actor: Actor, env: str, *, to: str | None = None, reason: str | None = None,
    reporter: Reporter | None = None,
) -> Outcome:
    """Roll ``env`` back to a version that succeeded there and was not rolled back from.

    Never blocked by a window or a freeze (undoing is always allowed); any other version
    is a deployment, with all its rules."""
    authorize(ws.config, actor, "rollback")
    _known_env(ws, env)
    if to is not None:
        check_version(ws.config, to)
        _check_rollback_target(ws, env, to)
    with notifications(ws) as dispatcher:
        if dispatcher is not None:
            reporter = _notifying(ws, actor, reporter, dispatcher, env, to or "the previous version", "rollback")
        with github_deployments(ws, env, reporter, rollback=True) as reporter:
            engine = ws.engine(actor, reporter)
            outcome = asyncio.run(engine.rollback(env, to=to, reason=reason))
    result = _outcome(outcome, env, to or "")
    if result.deployment_id is not None:
        ws.store.set_project(result.deployment_id, ws.config.project)
        if result.status == "succeeded":  # undoing a release is owed a post-mortem
            _open_obligations(ws, result.deployment_id, kinds=("postmortem",))
    return _anchored(ws, engine, result)


def _check_rollback_target(ws: Workspace, env: str, to: str) -> None:
    from releasegate.engine.history import rollback_targets

    allowed = rollback_targets(ws.store, env)
    if to not in allowed:
        known = ", ".join(allowed[:8]) or "none yet"
        raise PolicyDenied(
            f"{to} is not a version {env} can be rolled back to: rollback returns only to a "
            f"version that succeeded in {env} and was not rolled back from (those: {known}); "
            f"anything else is a deployment: releasegate deploy {env} {to}"
        )


def resume(ws: Workspace, actor: Actor, id: int | None, *, reporter: Reporter | None = None) -> Outcome:
    """Continue an interrupted deployment, or roll it back if that is safer."""
    authorize(ws.config, actor, "resume")
    if id is not None:
        check_id(id, "deployment")
    with github_resumed(ws, reporter) as reporter:
        engine = ws.engine(actor, reporter)
        outcome = asyncio.run(engine.resume(id))
    dep = ws.store.get_deployment(outcome.deployment_id)
    result = _outcome(outcome, dep.environment if dep else "", dep.version if dep else "")
    if dep is not None and dep.kind != "rollback" and not dep.plan.get("check"):
        _record_end(ws, actor, dep.id, result)  # a resumed deployment goes live or fails too
    return _anchored(ws, engine, result)


def cancel(ws: Workspace, actor: Actor, id: int) -> Outcome:
    """Cancel a deployment that is waiting (a running one is stopped in its own terminal)."""
    authorize(ws.config, actor, "cancel")
    check_id(id, "deployment")
    store = ws.store
    dep = store.get_deployment(id)
    if dep is None:
        raise UsageError(f"there is no deployment {id}")
    if dep.status not in ACTIVE:
        raise UsageError(f"deployment {id} has already finished ({dep.status})")
    if dep.plan.get("check") and dep.status == "running":
        raise UsageError(f"deployment {id} is a running check: press Ctrl-C in its terminal")
    lock = store.get_lock(dep.environment)
    if dep.status != "pending" and lock is not None and lock.deployment_id == id:
        raise UsageError(
            f"deployment {id} is running ({lock.holder}): press Ctrl-C in its terminal, "
            "or, if that process is gone, run 'releasegate resume' to finish or roll it back"
        )
    store.set_deployment_status(id, "cancelled", detail=f"cancelled by {actor.name}")
    return Outcome(id, "cancelled", f"cancelled by {actor.name}", dep.environment, dep.version)


def adopt(
    ws: Workspace, actor: Actor, env: str, version: str, *, reason: str | None = None
) -> Outcome:
    """Record ``version`` as live in ``env`` without deploying it: what was live before
    releasegate took over. Allowed only while releasegate has recorded nothing live there."""
    authorize(ws.config, actor, "adopt")
    _known_env(ws, env)
    check_version(ws.config, version)
    store = ws.store
    live = store.live_version(env)
    if live is not None:
        raise UsageError(
            f"{env} already has a recorded live version ({live}): adopt records what was "
            "live before releasegate took over; use deploy or rollback from here"
        )
    engine = ws.engine(actor)
    from releasegate.drivers.api import Release

    release = Release(env, version, "normal")
    from releasegate.engine.plan import compile_plan

    the_plan = compile_plan(ws.config, env, release, engine.registry)
    why = reason or f"{version} was live in {env} before releasegate took over"
    dep = engine.begin(the_plan, reason=f"adopted: {why}")
    ws.store.set_project(dep.id, ws.config.project)
    ws.store.append_event(
        "deployment.adopted",
        {"environment": env, "version": version, "reason": why, "actor": actor.to_json()},
        deployment_id=dep.id,
    )
    done = engine.end(dep.id, env, "succeeded", f"adopted: {why}")
    return _anchored(ws, engine, Outcome(done.deployment_id, "succeeded", done.detail, env, version))
