"""Team mode, the asking side: queue a deployment or a rollback, follow it, list the queue.

``enqueue`` checks everything a terminal deploy checks before it records anything (who may,
the environment, the version, the kind; with ``when_allowed`` the policy too), records the
queued deployment with what a worker needs — the config as it was validated, the
repository and commit it came from — and defers its job. It returns at once; ``follow``
waits for it to end (``deploy --queue --wait``) and gives back the deployment's outcome,
so CI keeps its exit codes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from releasegate.errors import LockedError, UsageError
from releasegate.identity import Actor
from releasegate.service import jobs
from releasegate.service.auth import authorize
from releasegate.service.checkout import source_of
from releasegate.service.inputs import check_environment, check_kind, check_version
from releasegate.service.results import Outcome
from releasegate.service.workspace import Workspace
from releasegate.store.queue import OPEN_STATUSES, QueuedRecord

__all__ = ["QueuedRecord", "Request", "enqueue", "follow", "get", "listing"]

DEFAULT_QUEUE = "deployments"
RECHECK_S = 60.0
"""How soon a ``--when-allowed`` deployment whose policy names no next time (an approval
missing, an incident open) is decided again."""


@dataclass(frozen=True)
class Request:
    """A deployment or rollback to queue (the options of ``deploy``/``rollback``)."""

    action: str  # deploy | rollback
    environment: str
    version: str | None = None  # rollback: --to
    kind: str = "normal"
    reason: str | None = None
    emergency: bool = False
    flags: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()
    fixes: int | None = None
    queue: str = DEFAULT_QUEUE
    when_allowed: bool = False
    until: datetime | None = None


def _check(ws: Workspace, actor: Actor, req: Request) -> None:
    if req.action not in ("deploy", "rollback"):
        raise UsageError(f"{req.action!r}: only deploy and rollback are queued")
    authorize(ws.config, actor, "deploy" if req.action == "deploy" else "rollback")
    if req.overrides:
        authorize(ws.config, actor, "override")
        if not (req.reason and req.reason.strip()):
            raise UsageError("--override needs --reason TEXT (who went past policy, and why, is recorded)")
    if req.emergency and not req.reason:
        raise UsageError("--emergency needs --reason TEXT (it is recorded)")
    check_environment(list(ws.config.environments), req.environment)
    if req.version is not None:
        check_version(ws.config, req.version)
    check_kind(req.kind)
    if req.until is not None and not req.when_allowed:
        raise UsageError("--until needs --when-allowed (it is when a waiting deployment expires)")
    if req.until is not None and req.until <= datetime.now(UTC):
        raise UsageError(f"--until {req.until.isoformat()} is in the past")
    if req.action == "rollback" and req.when_allowed:
        raise UsageError("--when-allowed: a rollback is never held by policy; queue it without")


def enqueue(ws: Workspace, actor: Actor, req: Request) -> QueuedRecord:
    """Record ``req`` as queued and defer its job; returns the queued deployment."""
    _check(ws, actor, req)
    db_url = ws.database_url
    jobs.conninfo(db_url)  # PostgreSQL, or a clear UsageError before anything is recorded
    source = source_of(ws.config_path)
    kind = "hotfix" if (req.emergency or req.fixes is not None) and req.kind == "normal" else req.kind
    if req.action == "rollback":
        kind = "rollback"
    waiting = _waiting(ws, actor, req, kind) if req.when_allowed else None
    options = {
        "reason": req.reason, "emergency": req.emergency, "flags": list(req.flags),
        "overrides": list(req.overrides), "fixes": req.fixes, "to": req.version,
    }
    record = ws.store.enqueue(
        project=ws.config.project, environment=req.environment, version=req.version or "",
        kind=kind, action=req.action, options=options, user=actor.name, via=actor.via,
        os_user=actor.os_user, repository=source.repository, commit=source.commit,
        config_path=source.config_path, config_text=ws.config_path.read_text(),
        queue=req.queue, status="waiting" if waiting else "queued",
        waiting=waiting[0] if waiting else None, not_after=req.until,
    )
    try:
        with jobs.opened(db_url) as app:
            job_id = _defer(app, record, waiting[1] if waiting else None)
    except LockedError as exc:
        ws.store.end_queued(record.id, "cancelled", detail=str(exc))
        raise
    ws.store.set_job(record.id, job_id)
    return ws.store.get_queued(record.id) or record


def _defer(app: object, record: QueuedRecord, at: datetime | None) -> int:
    identical = ":".join(
        (record.project, record.environment, record.action, record.version, record.kind)
    )
    if at is not None:  # waiting for policy: holds no place in the environment's order
        return jobs.defer(app, jobs.START_WHEN_ALLOWED, queued=record.id,  # type: ignore[arg-type]
                          queue=record.queue, lock=None, queueing_lock=identical, at=at)
    return jobs.defer(app, jobs.RUN, queued=record.id, queue=record.queue,  # type: ignore[arg-type]
                      lock=jobs.env_lock(record.project, record.environment),
                      queueing_lock=identical)


def _waiting(ws: Workspace, actor: Actor, req: Request, kind: str) -> tuple[str, datetime] | None:
    """Why a ``--when-allowed`` deployment waits and when to decide again (None: allowed now)."""
    from releasegate.service.gate import Request as PolicyRequest
    from releasegate.service.gate import decide

    verdict = decide(ws.config, ws.store, actor, PolicyRequest(
        req.environment, req.version, kind, emergency=req.emergency,
        overrides=req.overrides, reason=req.reason,
    ))
    if verdict.allowed:
        return None
    return why_waiting(verdict)


def why_waiting(verdict: object) -> tuple[str, datetime]:
    """The reason a deployment waits, and when to decide again: policy's next allowed time,
    or in :data:`RECHECK_S` when policy cannot name one (an approval, an incident)."""
    decision = verdict.decision  # type: ignore[attr-defined]
    at = decision.next_allowed_at or datetime.now(UTC) + timedelta(seconds=RECHECK_S)
    reason = verdict.summary()  # type: ignore[attr-defined]
    if decision.next_allowed_at is not None:
        reason += f"; next allowed at {decision.next_allowed_at:%Y-%m-%d %H:%M:%S} UTC"
    elif decision.next_allowed_note:
        reason += f"; {decision.next_allowed_note}"
    return reason, at


def get(ws: Workspace, id: int) -> QueuedRecord:
    record = ws.store.get_queued(id)
    if record is None:
        raise UsageError(f"there is no queued deployment {id}")
    return record


def listing(ws: Workspace, *, open_only: bool = True, limit: int = 100) -> list[QueuedRecord]:
    """The queue, newest first: what waits, why, and what runs where."""
    return ws.store.list_queued(statuses=OPEN_STATUSES if open_only else None, limit=limit)


def follow(
    ws: Workspace, id: int, *, on_event: Callable[[str, dict[str, object]], None] | None = None,
    poll_s: float = 0.5, timeout_s: float | None = None,
) -> Outcome:
    """Wait for queued deployment ``id`` to end, passing its deployment's events to
    ``on_event`` as they are recorded; the outcome of the deployment it became (or of the
    queued deployment, when it never became one: failed, expired, cancelled)."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    seen = 0
    while True:
        record = get(ws, id)
        if record.deployment_id is not None and on_event is not None:
            for event in ws.store.list_events(deployment_id=record.deployment_id, after_id=seen):
                seen = event.id
                on_event(event.type, dict(event.data))
        if record.status not in OPEN_STATUSES:
            return outcome_of(ws, record)
        if deadline is not None and time.monotonic() > deadline:
            raise UsageError(f"queued deployment {id} has not ended within {timeout_s:.0f}s")
        time.sleep(poll_s)


def outcome_of(ws: Workspace, record: QueuedRecord) -> Outcome:
    """The outcome a queued deployment ended with, as a terminal deploy would report it."""
    if record.deployment_id is not None:
        dep = ws.store.get_deployment(record.deployment_id)
        if dep is not None:
            return Outcome(dep.id, dep.status, dep.detail or "", dep.environment, dep.version)
    status = {"failed": "failed", "expired": "blocked", "cancelled": "cancelled"}.get(
        record.status, "failed")
    if (record.detail or "").startswith("blocked:"):  # refused by policy before it started
        status = "blocked"
    return Outcome(None, status, record.detail or record.status, record.environment, record.version)


def workers_live(ws: Workspace) -> bool:
    """True when the store is on PostgreSQL and a worker sent a heartbeat lately: the API
    then queues deployments instead of running them in the server's process."""
    try:
        jobs.conninfo(ws.database_url)
    except UsageError:
        return False
    return jobs.live_workers(ws.database_url) > 0


def gauges(ws: Workspace) -> dict[str, float] | None:
    """Queue depth and job age for ``/metrics`` (None when the store is not PostgreSQL)."""
    try:
        jobs.conninfo(ws.database_url)
    except UsageError:
        return None
    found = jobs.queue_gauges(ws.database_url)
    for status, (count, oldest) in ws.store.queue_depth().items():
        found[f"queued_{status}"] = float(count)
        if status == "queued" and oldest is not None:
            found["oldest_queued_age_s"] = (datetime.now(UTC) - oldest).total_seconds()
    found["workers"] = float(jobs.live_workers(ws.database_url))
    return found
