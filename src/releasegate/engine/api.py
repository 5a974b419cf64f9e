"""The engine's public face: plan, deploy, resume, roll back.

The CLI, the web API and workers call only this module.
"""

from __future__ import annotations

import inspect
import os
import random
import socket
from collections.abc import Awaitable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import JsonValue

from releasegate.config.models import Config
from releasegate.drivers.api import Registry, Release, Secrets, StepContext
from releasegate.engine.facts import StoreFacts
from releasegate.engine.plan import TARGET_STEP, Plan, compile_plan, environment_of
from releasegate.engine.report import NullReporter, Reporter
from releasegate.engine.resume import progress_of
from releasegate.engine.runner import (
    FINAL,
    BeforeDeploy,
    Outcome,
    Progress,
    continue_rollback,
    drive,
    run_gates_only,
)
from releasegate.engine.steps import Runtime
from releasegate.errors import LockedError, UsageError
from releasegate.store.api import DeploymentRecord, Store


def default_holder(user: str) -> str:
    """``user@host:pid`` — who holds an environment's lease."""
    return f"{user}@{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class RollbackPreview:
    environment: str
    live_version: str | None
    to_version: str | None
    live_deployment: int | None
    actions: tuple[str, ...]
    estimate_s: float | None
    estimate_basis: str


class Engine:
    """Runs plans against a store. One instance per command; nothing global."""

    def __init__(
        self,
        config: Config,
        store: Store,
        registry: Registry,
        *,
        workdir: Path,
        state_dir: Path,
        secrets: Secrets,
        reporter: Reporter | None = None,
        user: str = "unknown",
        lease_ttl_s: float = 30.0,
        seed: int | None = None,
        os_user: str | None = None,
        via: str | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.registry = registry
        self.workdir = workdir
        self.state_dir = state_dir
        self.secrets = secrets
        self.reporter: Reporter = reporter or NullReporter()
        self.user = user
        self.lease_ttl_s = lease_ttl_s
        self.os_user = os_user
        self.via = via
        self.holder = default_holder(user)
        self._rng = random.Random(seed)
        self._tokens: dict[int, int] = {}
        """The fencing token of each lease this engine was granted, by deployment."""

    # -- planning ---------------------------------------------------------------------
    def release(
        self,
        env: str,
        version: str,
        kind: str = "normal",
        *,
        emergency: bool = False,
        flags: Collection[str] = (),
    ) -> Release:
        """What is being deployed: version, kind, what is live, the commit and what changed."""
        from releasegate.engine.changes import changed_paths, head_commit
        from releasegate.engine.history import live_deployment

        environment_of(self.config, env)
        live = live_deployment(self.store, env)
        commit = head_commit(self.workdir)
        return Release(
            environment=env,
            version=version,
            kind=kind,
            previous_version=self.store.live_version(env),
            commit=commit,
            changed_paths=changed_paths(self.workdir, live.commit if live else None, commit),
            flags={name: True for name in flags},
            emergency=emergency,
        )

    def plan(
        self,
        env: str,
        version: str,
        kind: str = "normal",
        *,
        emergency: bool = False,
        flags: Collection[str] = (),
        signatures: bool = True,
    ) -> Plan:
        if kind not in ("normal", "major", "hotfix", "rollback"):
            raise UsageError(f"--kind {kind!r}: use normal, major, hotfix or rollback")
        return compile_plan(
            self.config,
            env,
            self.release(env, version, kind, emergency=emergency, flags=flags),
            self.registry,
            emergency=emergency,
            signatures=signatures,
        )

    def runtime(self, plan: Plan, deployment_id: int) -> Runtime:
        return Runtime(
            config=self.config,
            env=self.config.environments[plan.environment],
            plan=plan,
            store=self.store,
            registry=self.registry,
            deployment_id=deployment_id,
            workdir=self.workdir,
            state_dir=self.state_dir,
            secrets=self.secrets,
            reporter=self.reporter,
            rng=self._rng,
            holder=self.holder,
            token=self._tokens.get(deployment_id),
        )

    def target_call(self, env: str, method: str) -> Awaitable[object] | None:
        """Call an optional method of ``env``'s target (``status``, ``stop``), if it has one.

        Returns the awaitable, or None when the environment has no target or the target
        does not offer ``method``."""
        config_env = environment_of(self.config, env)
        if config_env.target is None:
            return None
        target = self.registry.target(config_env.target.uses)
        call = getattr(target, method, None)
        if not callable(call):
            return None
        options = self.registry.options_model("target", config_env.target.uses).model_validate(
            dict(config_env.target.with_)
        )
        release = Release(env, self.store.live_version(env) or "", "normal")
        ctx = StepContext(
            release=release,
            deployment_id=0,
            workdir=self.workdir,
            state_dir=self.state_dir,
            url=config_env.url,
            secrets=self.secrets,
            facts=StoreFacts(self.store, 0),
            progress=lambda line: None,
        )
        result = call(options, ctx)
        return result if inspect.isawaitable(result) else None

    # -- running ----------------------------------------------------------------------
    async def deploy(
        self,
        plan: Plan,
        *,
        reason: str | None = None,
        emergency: bool = False,
        policy: Mapping[str, JsonValue] | None = None,
    ) -> Outcome:
        """Record a new deployment of ``plan``, take the environment's lease, run it.

        ``policy`` is the policy decision that allowed it, recorded with the deployment.
        (The application layer decides policy under the lease: ``begin`` then ``run``.)"""
        dep = self.begin(plan, reason=reason, emergency=emergency)
        if policy is not None:
            self.store.append_event("policy.decision", dict(policy), deployment_id=dep.id)
        return await self.run(plan, dep.id)

    def begin(
        self,
        plan: Plan,
        *,
        reason: str | None = None,
        emergency: bool = False,
        rollback_of: int | None = None,
    ) -> DeploymentRecord:
        """Record a new deployment of ``plan`` holding the environment's lease.

        Raises LockedError (recording nothing that stays pending) when another deployment
        holds the lease. A lease that expired is taken over: the processes its holder
        recorded are stopped first, and its deployment is ended."""
        return self._start(
            plan.environment, plan.version, plan.kind, plan=plan.to_json(), reason=reason,
            emergency=emergency, commit=plan.release.commit, rollback_of=rollback_of,
        )

    def _start(
        self, env: str, version: str, kind: str, *, plan: dict[str, JsonValue],
        reason: str | None, emergency: bool = False, commit: str | None = None,
        rollback_of: int | None = None,
    ) -> DeploymentRecord:
        previous = self.store.get_lock(env)
        for attempt in (1, 2):
            try:
                dep, lock = self.store.start_deployment(
                    environment=env, version=version, kind=kind, user=self.user, plan=plan,
                    holder=self.holder, ttl_s=self.lease_ttl_s, reason=reason,
                    emergency=emergency, commit=commit, rollback_of=rollback_of,
                    os_user=self.os_user, via=self.via,
                )
                break
            except LockedError:
                if attempt == 2 or not self._free_dead_holder(env):
                    raise
        self._tokens[dep.id] = lock.token
        if previous is not None and previous.deployment_id != dep.id:
            self._end_taken_over(previous.deployment_id, by=dep.id)
        return dep

    def _free_dead_holder(self, env: str) -> bool:
        """A lease held by a process of this host that is gone: released at once when its
        deployment has finished (a crash right after the final write); otherwise the
        deployment is to be resumed, and the LockedError says so."""
        lock = self.store.get_lock(env)
        if lock is None or not _holder_dead(lock.holder):
            return False
        held = self.store.get_deployment(lock.deployment_id)
        if held is not None and held.status not in FINAL:
            raise LockedError(
                f"{env} is held by deployment {held.id} ({held.version}), whose process "
                f"({lock.holder}) is gone: run 'releasegate resume {held.id}' to finish or "
                "roll it back"
            )
        self.store.release_lock(env, deployment_id=lock.deployment_id)
        return True

    def _end_taken_over(self, deployment_id: int, *, by: int) -> None:
        """A deployment whose lease expired and was taken over: stop what it left running
        and end it, so it is never left ``running``."""
        self._stop_leftovers(deployment_id)
        old = self.store.get_deployment(deployment_id)
        if old is None or old.status in FINAL:
            return
        changed = bool(self._succeeded_deploy_steps(deployment_id))
        status = "failed" if changed else "cancelled"
        detail = f"its lease expired and deployment {by} took the environment over"
        if changed:
            detail += "; it had changed the environment: a person must check it"
        self.store.set_deployment_status(deployment_id, status, detail=detail)

    async def run(
        self, plan: Plan, deployment_id: int, *, before_deploy: BeforeDeploy | None = None
    ) -> Outcome:
        """Run a deployment recorded by :meth:`begin` to its final status."""
        return await drive(
            self.runtime(plan, deployment_id),
            lease_ttl_s=self.lease_ttl_s,
            before_deploy=before_deploy,
        )

    def end(self, deployment_id: int, environment: str, status: str, detail: str) -> Outcome:
        """End a deployment that holds the lease without running it (policy refused)."""
        self.store.set_deployment_status(
            deployment_id, status, detail=detail, release_lock=True,
            token=self._tokens.get(deployment_id),
        )
        self.reporter.event(
            "deployment.finished", {"id": deployment_id, "status": status, "detail": detail}
        )
        return Outcome(deployment_id, status, detail)

    async def check(self, plan: Plan) -> Outcome:
        """Run the gates only, recorded as a deployment with status ``checked`` or
        ``check_failed`` (never counted as a deployment); nothing is deployed."""
        dep = self.store.create_deployment(
            environment=plan.environment,
            version=plan.version,
            kind=plan.kind,
            user=self.user,
            plan={**plan.to_json(), "check": True},
            reason="check: gates only",
        )
        rt = self.runtime(plan, dep.id)
        return await run_gates_only(rt)

    async def resume(self, deployment_id: int | None = None) -> Outcome:
        """Continue an interrupted deployment (or roll it back if it stopped mid-deploy)."""
        dep = self._resumable(deployment_id)
        if dep.plan.get("check"):
            # a check deploys nothing: an interrupted one is closed, never driven on
            self.store.set_deployment_status(
                dep.id, "check_failed", detail="interrupted; run the check again"
            )
            raise UsageError(
                f"deployment {dep.id} was a check (gates only) that was interrupted: it is "
                "closed as check_failed; run 'releasegate check' again"
            )
        if dep.kind == "rollback" and dep.rollback_of is not None:
            return await self._resume_manual_rollback(dep.id, dep.rollback_of)
        plan = self.plan(dep.environment, dep.version, dep.kind, emergency=dep.emergency)
        self._take_over(dep.environment, dep.id)
        self._stop_leftovers(dep.id)
        rt = self.runtime(plan, dep.id)
        progress = await progress_of(rt)
        resumed: dict[str, JsonValue] = {
            "by": self.holder,
            "done": list[JsonValue](sorted(progress.done)),
            "deploy_attempted": list[JsonValue](progress.deploy_attempted),
        }
        self.store.append_event("deployment.resumed", resumed, deployment_id=dep.id)
        self.reporter.event("deployment.resumed", {"id": dep.id})
        all_deploy = {s.id for s in plan.deploy if not s.skip_reason}
        midway = progress.deploy_started and not all_deploy <= progress.done
        if dep.status == "rolling_back" or midway:
            reason = dep.detail if dep.status == "rolling_back" and dep.detail else (
                "resumed after an interruption in the middle of the deploy phase"
            )
            return await continue_rollback(rt, progress, reason=reason, lease_ttl_s=self.lease_ttl_s)
        return await drive(rt, progress=progress, lease_ttl_s=self.lease_ttl_s)

    def _stop_leftovers(self, deployment_id: int) -> None:
        """Stop commands the dead process left running, before anything is re-checked."""
        from releasegate.leftovers import stop_leftovers

        stopped = stop_leftovers(self.state_dir / "running" / str(deployment_id))
        if stopped:
            data: dict[str, JsonValue] = {"process_groups": list[JsonValue](stopped)}
            self.store.append_event("resume.stopped_leftovers", data, deployment_id=deployment_id)
            self.reporter.event("resume.stopped_leftovers", data)

    async def _resume_manual_rollback(self, dep_id: int, live_id: int) -> Outcome:
        dep = self.store.get_deployment(dep_id)
        live = self.store.get_deployment(live_id)
        assert dep is not None
        assert live is not None
        plan = compile_plan(
            self.config,
            dep.environment,
            Release(dep.environment, live.version, live.kind, previous_version=dep.version),
            self.registry,
        )
        self._take_over(dep.environment, dep.id)
        self._stop_leftovers(dep.id)
        rt = self.runtime(plan, dep.id)
        done = await progress_of(rt)
        return await continue_rollback(
            rt,
            _progress_for_manual(self._succeeded_deploy_steps(live.id), undone=done.undone),
            reason=dep.reason or "manual rollback (resumed)",
            lease_ttl_s=self.lease_ttl_s,
            to_version=dep.version,
            statuses=("succeeded", "failed"),
        )

    def _succeeded_deploy_steps(self, deployment_id: int) -> list[str]:
        return [
            r.step_id
            for r in self.store.list_step_runs(deployment_id)
            if r.phase == "deploy" and r.status in ("succeeded", "warned")
        ]

    def _resumable(self, deployment_id: int | None):  # type: ignore[no-untyped-def]
        if deployment_id is None:
            candidates = [
                d for d in self.store.list_deployments(limit=50) if d.status not in FINAL and d.status != "pending"
            ]
            if not candidates:
                raise UsageError("there is no interrupted deployment to resume")
            return candidates[0]
        dep = self.store.get_deployment(deployment_id)
        if dep is None:
            raise UsageError(f"there is no deployment {deployment_id}")
        if dep.status in FINAL:
            raise UsageError(f"deployment {dep.id} has already finished ({dep.status}); nothing to resume")
        return dep

    def _take_over(self, env: str, deployment_id: int) -> None:
        lock = self.store.get_lock(env)
        if lock is not None and lock.deployment_id == deployment_id:
            if _holder_dead(lock.holder):
                self.store.release_lock(env, deployment_id=deployment_id)
            elif lock.expires_at > datetime.now(UTC):
                raise LockedError(
                    f"deployment {deployment_id} is still running ({lock.holder}); "
                    f"resume it only once that process is gone or its lease has expired "
                    f"({lock.expires_at:%H:%M:%S} UTC)"
                )
        lock = self.store.take_over_lock(
            env, deployment_id=deployment_id, holder=self.holder, ttl_s=self.lease_ttl_s
        )
        self._tokens[deployment_id] = lock.token

    # -- manual rollback --------------------------------------------------------------
    def rollback_preview(self, env: str, *, to: str | None = None) -> RollbackPreview:
        from releasegate.engine.history import estimate_rollback_s, live_deployment, previous_stable

        environment_of(self.config, env)
        live = live_deployment(self.store, env)
        target = to or previous_stable(self.store, env)
        actions: list[str] = []
        if live is not None:
            live_plan = compile_plan(
                self.config, env, Release(env, live.version, live.kind, previous_version=target), self.registry
            )
            ran = set(self._succeeded_deploy_steps(live.id))
            for step in reversed(live_plan.deploy):
                if step.id not in ran:
                    continue
                if step.uses == TARGET_STEP:
                    actions.append(f"{step.id}: swap back to {target or '?'}")
                elif step.undo:
                    actions.append(f"{step.id}: {step.undo}")
            actions += [f"{s.id}: run ({s.uses})" for s in live_plan.rollback_steps]
        estimate, basis = estimate_rollback_s(self.store, env)
        return RollbackPreview(
            environment=env,
            live_version=live.version if live else None,
            to_version=target,
            live_deployment=live.id if live else None,
            actions=tuple(actions),
            estimate_s=estimate,
            estimate_basis=basis,
        )

    async def rollback(self, env: str, *, to: str | None = None, reason: str | None = None) -> Outcome:
        """Roll ``env`` back from its live deployment to ``to`` (default: previous stable)."""
        from releasegate.engine.history import live_deployment, previous_stable

        environment_of(self.config, env)
        live = live_deployment(self.store, env)
        if live is None:
            raise UsageError(f"nothing has been deployed to {env}: there is nothing to roll back")
        target = to or previous_stable(self.store, env)
        if target is None:
            raise UsageError(f"{env} has no earlier successful version to roll back to (use --to)")
        if target == live.version:
            raise UsageError(f"{env} is already running {target}")
        live_plan = compile_plan(
            self.config, env, Release(env, live.version, live.kind, previous_version=target), self.registry
        )
        dep = self._start(
            env, target, "rollback", plan=live_plan.to_json(),
            reason=reason or f"manual rollback from {live.version}", rollback_of=live.id,
        )
        rt = self.runtime(live_plan, dep.id)
        attempted = self._succeeded_deploy_steps(live.id)
        self.store.set_deployment_status(dep.id, "running", token=rt.token)
        return await continue_rollback(
            rt,
            _progress_for_manual(attempted),
            reason=reason or f"manual rollback from {live.version} to {target}",
            lease_ttl_s=self.lease_ttl_s,
            to_version=target,
            statuses=("succeeded", "failed"),
        )


def _progress_for_manual(attempted: list[str], *, undone: tuple[str, ...] = ()) -> Progress:
    return Progress(deploy_attempted=tuple(attempted), undone=undone, deploy_started=True)


def _holder_dead(holder: str) -> bool:
    """True when the holder ran on this host and its process is gone."""
    _, _, where = holder.rpartition("@")
    host, _, pid = where.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
