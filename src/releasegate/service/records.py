"""Reading the record: status, history, and the audit of the event chain."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from releasegate.errors import ReleasegateError, UsageError
from releasegate.identity import Actor
from releasegate.service.auth import authorize
from releasegate.service.inputs import check_environment
from releasegate.service.results import Done
from releasegate.service.workspace import Workspace

if TYPE_CHECKING:
    from releasegate.store.api import DeploymentRecord, Store

ACTIVE = ("pending", "running", "rolling_back", "interrupted")


@dataclass(frozen=True)
class EnvironmentStatus:
    environment: str
    live_version: str | None
    locked_by: str | None
    running: list[str]
    target: str
    attention: str | None
    overrides: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Status:
    environments: list[EnvironmentStatus]
    obligations: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def history(
    ws: Workspace, actor: Actor, env: str | None = None, *, limit: int = 20
) -> list[DeploymentRecord]:
    """Past deployments, newest first."""
    if env is not None:
        check_environment(list(ws.config.environments), env)
    return ws.store.list_deployments(environment=env, limit=limit)


def status(ws: Workspace, actor: Actor, env: str | None = None) -> Status:
    """What is live where, what is running, locks, targets, open obligations."""
    config = ws.config
    store = ws.store
    names = list(config.environments)
    if env is not None:
        check_environment(names, env)
    rows = []
    for name in [env] if env else names:
        lock = store.get_lock(name)
        recent = store.list_deployments(environment=name, limit=20)
        live = store.live_version(name)
        target, serving = _target_status(ws, actor, name)
        attention = _attention(store, recent, name)
        if attention is None and serving is not None and live is not None and serving != live:
            attention = (
                f"the target serves {serving} but the record says {live} is live in {name}: "
                "something changed it outside releasegate (releasegate rollback, or deploy the "
                "version that should run)"
            )
        rows.append(EnvironmentStatus(
            environment=name,
            live_version=live,
            locked_by=None if lock is None else f"deployment {lock.deployment_id} ({lock.holder})",
            running=[f"{d.id} {d.version} {d.status}" for d in recent if d.status in ACTIVE],
            target=target,
            attention=attention,
            overrides=_overrides(store, recent),
        ))
    now = datetime.now(UTC)
    obligations = [
        {"id": o.id, "deployment": o.deployment_id, "kind": o.kind, "text": o.text,
         "due": o.due_at.isoformat(), "overdue": o.due_at < now}
        for o in store.list_obligations(open_only=True)
    ]
    return Status(rows, obligations)


def _overrides(store: Store, recent: list[DeploymentRecord]) -> list[str]:
    """Recent deployments that went past policy (break-glass), said plainly."""
    found = []
    for dep in recent[:5]:
        for event in store.list_events(deployment_id=dep.id, types=("policy.override",)):
            if event.type == "policy.override":
                rules = event.data.get("rules")
                who = event.data.get("actor")
                name = who.get("user") if isinstance(who, dict) else "?"
                listed = ", ".join(str(r) for r in rules) if isinstance(rules, list) else ""
                found.append(
                    f"deployment {dep.id} ({dep.version}) went past {listed}: "
                    f"{name}: {event.data.get('reason')}"
                )
    return found


def _target_status(ws: Workspace, actor: Actor, env: str) -> tuple[str, str | None]:
    """What the environment's target says about itself (the local supervisor: pid, uptime),
    and the version it serves, when it says."""
    call = ws.engine(actor).target_call(env, "status")
    if call is None:
        return "", None
    try:
        found = asyncio.run(_awaited(call))
    except ReleasegateError as exc:
        return f"target: {exc}", None
    if found is None:
        return "target: not running", None
    parts = []
    for name in ("pid", "version", "address"):
        value = getattr(found, name, None)
        if value not in (None, ""):
            parts.append(f"{name} {value}")
    if getattr(found, "maintenance", False):
        parts.append("in maintenance")
    uptime = getattr(found, "uptime_s", None)
    if isinstance(uptime, int | float):
        parts.append(f"up {uptime:.0f}s")
    version = getattr(found, "version", None)
    return "target: " + ", ".join(parts), version if isinstance(version, str) and version else None


async def _awaited(call: Awaitable[object]) -> object:
    return await call


def _attention(store: Store, recent: list[DeploymentRecord], env: str) -> str | None:
    """A deployment that failed after changing the environment and was not rolled back:
    what is live may not be what the record's last success says."""
    for dep in recent:
        if dep.status in ("succeeded", "rolled_back"):
            return None
        if dep.status in ("failed", "rollback_failed"):
            changed = any(
                r.phase == "deploy" and r.status in ("succeeded", "warned")
                for r in store.list_step_runs(dep.id)
            )
            if changed:
                return (
                    f"deployment {dep.id} ({dep.version}) {dep.status} after changing "
                    f"{env} and was not rolled back: a person must act "
                    f"(releasegate show {dep.id}; releasegate rollback {env})"
                )
    return None


@dataclass(frozen=True)
class Audit:
    ok: bool
    checked: int
    problems: list[str]
    anchors: int = 0
    signatures: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def audit_verify(ws: Workspace, actor: Actor) -> Audit:
    """Verify the record: every event's hash, every row policy decides on against its seal,
    the chain against its anchors outside the database, and every SSH-signed sign-off."""
    anchors = []
    where = ws.anchors() if ws.config_path.exists() else None
    if where is not None:
        anchors = where.read()
    report = ws.store.verify_chain(anchors=anchors)
    problems = list(report.problems)
    signed = _signature_problems(ws) if ws.config_path.exists() else []
    problems += [p for p in signed if p]
    return Audit(not problems, report.checked, problems, len(anchors), len(signed))


def _signature_problems(ws: Workspace) -> list[str | None]:
    """One entry per signed sign-off: None when it holds, else why not."""
    from releasegate.service.signing import check_recorded

    approvals, confirmations = ws.store.list_signed()
    found: list[str | None] = []
    for a in approvals:
        assert a.signature is not None
        assert a.payload is not None
        found.append(check_recorded(
            ws, f"approval {a.id}", a.signature, a.payload,
            {"user": a.user, "environment": a.environment, "version": a.version, "role": a.role},
        ))
    for c in confirmations:
        assert c.signature is not None
        assert c.payload is not None
        found.append(check_recorded(
            ws, f"confirmation {c.id}", c.signature, c.payload,
            {"user": c.user, "item": c.item, "deployment_id": c.deployment_id},
        ))
    return found


def audit_anchor(ws: Workspace, actor: Actor) -> Done:
    """Write the chain head outside the database, where ``audit.anchor`` says."""
    authorize(ws.config, actor, "audit.anchor")
    where = ws.anchors()
    if where is None:
        raise UsageError("audit.anchor is none: the chain is not anchored anywhere")
    anchor = where.write(ws.store.chain_head())
    return Done(
        anchor.event_id,
        f"anchored event {anchor.event_id} ({anchor.hash[:12]}…) in {ws.config.audit.anchor}",
        {"event_id": anchor.event_id, "hash": anchor.hash, "where": ws.config.audit.anchor},
    )


def anchor_after(ws: Workspace) -> str | None:
    """Anchor the chain head after a deployment; a failure to anchor is said, never fatal
    (the deployment is recorded either way). Returns what went wrong, if anything."""
    try:
        where = ws.anchors()
        if where is not None:
            where.write(ws.store.chain_head())
    except ReleasegateError as exc:
        return f"the chain head was not anchored: {exc}"
    return None


def waiting_signatures(ws: Workspace, actor: Actor, deployment_id: int) -> list[str]:
    """What deployment ``deployment_id`` is waiting for someone to sign now: its checklist
    items (``sign.ITEM`` steps) and paused verification stages (``verify.STAGE``)."""
    store = ws.store
    done = {c.item for c in store.list_confirmations(deployment_id)}
    waiting: list[str] = []
    for run in store.list_step_runs(deployment_id):
        if run.status != "running":
            continue
        if run.step_id.startswith("sign."):
            item = run.step_id.removeprefix("sign.")
        elif run.step_id.startswith("verify."):
            item = run.step_id
        else:
            continue
        if item not in done and item not in waiting:
            waiting.append(item)
    return waiting


def db_upgrade(ws: Workspace) -> str:
    """Migrate the store to the schema this releasegate needs (``releasegate db upgrade``)."""
    from releasegate.store.api import upgrade
    from releasegate.store.connection import redact

    upgrade(ws.database_url)
    return f"{redact(ws.database_url)}: at the newest schema"
