"""Team mode, the running side: what a worker does with a queued deployment.

``run_queued`` is idempotent, because a job may run more than once (its worker died, or
handed it back on SIGTERM, and the job was put back in the queue):

* the queued deployment already ended → nothing;
* it already became a deployment that has not ended → that deployment is **resumed**
  through the engine's resume path (re-check, continue or roll back) — once the dead
  holder's lease is gone (at once when it ran on this machine; otherwise when it expires:
  until then :class:`Retry` puts the job back);
* otherwise it is deployed (or rolled back) from a worktree of its commit, with the config
  as it was queued; secrets are resolved here, on the worker.

The environment's lease stays the source of truth: a deployment that finds it held by a
terminal deploy raises :class:`Retry` and runs later, in order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import JsonValue

from releasegate.errors import LockedError, PolicyDenied, ReleasegateError
from releasegate.identity import actor_for
from releasegate.service import deployments
from releasegate.service.checkout import CheckoutError, Source, checkout, remove
from releasegate.service.results import Outcome
from releasegate.service.workspace import Workspace
from releasegate.store.queue import OPEN_STATUSES, QueuedRecord

if TYPE_CHECKING:
    from releasegate.engine.api import Engine
    from releasegate.engine.report import Reporter
    from releasegate.identity import Actor

FINAL = ("succeeded", "failed", "rolled_back", "rollback_failed", "cancelled", "checked",
         "check_failed", "blocked")


class Retry(Exception):
    """Run this job again in ``after_s`` seconds (the environment is held, a dead
    holder's lease has not expired yet, policy does not allow it yet)."""

    def __init__(self, why: str, after_s: float) -> None:
        super().__init__(why)
        self.after_s = after_s


@dataclass
class WorkerSettings:
    """How a worker runs deployments."""

    db_url: str
    cache: Path
    name: str
    lease_ttl_s: float = 30.0
    keep_worktrees: bool = False
    reporters: list[Callable[[QueuedRecord], Reporter]] = field(default_factory=list)
    """Called with each queued deployment a job runs: extra live views (graceful
    shutdown watches the steps through one)."""


@dataclass
class WorkerWorkspace(Workspace):
    """A workspace in a worker's worktree, whose engines hold leases for ``lease_ttl_s``."""

    lease_ttl_s: float = 30.0

    def engine(self, actor: Actor, reporter: Reporter | None = None) -> Engine:
        engine = super().engine(actor, reporter)
        engine.lease_ttl_s = self.lease_ttl_s
        return engine


class _Linking:
    """A reporter that records which deployment a queued one became, as soon as the engine
    names it, and passes every event on."""

    def __init__(self, ws: Workspace, queued: int, then: list[Reporter]) -> None:
        self.ws, self.queued, self.then = ws, queued, then
        self.linked = False

    def event(self, type: str, data: Mapping[str, JsonValue]) -> None:
        if not self.linked and type in ("deployment.started", "deployment.finished"):
            id = data.get("id")
            if isinstance(id, int):
                self.ws.store.link_queued(self.queued, id)
                self.linked = True
        for reporter in self.then:
            reporter.event(type, data)


def source(record: QueuedRecord) -> Source:
    return Source(record.repository, record.commit, record.config_path)


def run_queued(settings: WorkerSettings, queued: int) -> str:
    """Run (or resume) queued deployment ``queued`` to its end; returns how it ended."""
    from releasegate.store.api import open_store

    store = open_store(settings.db_url)
    try:
        record = store.get_queued(queued)
        if record is None or record.status not in OPEN_STATUSES:
            return "nothing to do"
        if record.not_after is not None and record.not_after <= datetime.now(UTC):
            return store.end_queued(queued, "expired", detail=_expired(record)).status
        first = record.worker is None  # no worker may have started it before this one
        claimed = store.claim_queued(queued, worker=settings.name)
        if claimed is None:  # cancelled (or ended) since it was read: it never runs
            return "nothing to do"
        record = claimed
        dep_id = record.deployment_id or _find_deployment(store, record)
        if dep_id is not None:
            store.link_queued(queued, dep_id)
            dep = store.get_deployment(dep_id)
            if dep is not None and dep.status in FINAL:
                return store.end_queued(queued, "done", detail=f"{dep.status}: {dep.detail or ''}").status
        try:
            tree = checkout(settings.cache, source(record), f"q{queued}")
        except (CheckoutError, OSError) as exc:
            return store.end_queued(queued, "failed", detail=f"cannot check out: {exc}").status
    finally:
        store.close()
    try:
        return _run_in(settings, record, tree, dep_id, requeue=first and dep_id is None)
    finally:
        if not settings.keep_worktrees:
            remove(settings.cache, source(record), f"q{queued}")


def _expired(record: QueuedRecord) -> str:
    until = record.not_after.isoformat() if record.not_after else "?"
    return f"expired at {until} without policy allowing it" + (
        f" (last: {record.waiting})" if record.waiting else "")


def _find_deployment(store: object, record: QueuedRecord) -> int | None:
    """The deployment a job started before its worker died, if that worker died before
    the link was written: the one holding the environment, of this version, since the
    job was claimed."""
    lock = store.get_lock(record.environment)  # type: ignore[attr-defined]
    if lock is None or record.started_at is None:
        return None
    dep = store.get_deployment(lock.deployment_id)  # type: ignore[attr-defined]
    if dep is None or dep.created_at < record.started_at or dep.user != record.user:
        return None
    if record.action == "deploy" and dep.version != record.version:
        return None
    return int(dep.id)


def _run_in(settings: WorkerSettings, record: QueuedRecord, tree: Path, dep_id: int | None,
            *, requeue: bool = False) -> str:
    """Deploy (or resume) ``record`` in ``tree``. ``requeue``: no worker can have started
    it before — held by another deployment, it goes back to ``queued`` (cancellable) while
    its job waits to run again."""
    config_path = tree / record.config_path
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(record.config_text)  # the config as it was validated
    ws = WorkerWorkspace(config_path=config_path, db_url=settings.db_url,
                         lease_ttl_s=settings.lease_ttl_s)
    try:
        actor = actor_for(ws.config, record.user, via=record.via or "trust",  # type: ignore[arg-type]
                          os_user=record.os_user or "unknown")
        reporter = _Linking(ws, record.id, [make(record) for make in settings.reporters])
        try:
            outcome = _drive(ws, actor, record, dep_id, reporter)
        except LockedError as exc:
            if requeue:  # held before it started: queued (and cancellable) again
                ws.store.requeue_queued(record.id, worker=settings.name, reason=str(exc))
            raise Retry(str(exc), after_s=min(settings.lease_ttl_s / 3, 5.0)) from None
        except PolicyDenied as exc:
            return ws.store.end_queued(record.id, "failed", detail=f"blocked: {exc}").status
        except ReleasegateError as exc:
            if _still_running(ws, record.id):  # e.g. the database went away mid-deployment
                raise Retry(str(exc), after_s=min(settings.lease_ttl_s / 3, 5.0)) from None
            return ws.store.end_queued(record.id, "failed", detail=str(exc)).status
        if outcome.deployment_id is not None:
            ws.store.link_queued(record.id, outcome.deployment_id)
            dep = ws.store.get_deployment(outcome.deployment_id)
            if dep is not None and dep.status not in FINAL:
                # this worker lost the lease (cut off from the database past it): the
                # worker that took the deployment over ends it, and the queued one
                return "taken over by another worker"
        return ws.store.end_queued(
            record.id, "done", detail=f"{outcome.status}: {outcome.detail}").status
    finally:
        ws.close()


def _still_running(ws: Workspace, queued: int) -> bool:
    """True when queued deployment ``queued`` became a deployment that has not ended: it
    is resumed when its job runs again, never ended from here."""
    record = ws.store.get_queued(queued)
    if record is None or record.deployment_id is None:
        return False
    dep = ws.store.get_deployment(record.deployment_id)
    return dep is not None and dep.status not in FINAL


def _drive(ws: Workspace, actor: Actor, record: QueuedRecord, dep_id: int | None,
           reporter: Reporter) -> Outcome:
    if dep_id is not None:
        return deployments.resume(ws, actor, dep_id, reporter=reporter)
    options = record.options
    reason = options.get("reason")
    if record.action == "rollback":
        to = options.get("to")
        return deployments.rollback(
            ws, actor, record.environment, to=str(to) if to else None,
            reason=str(reason) if reason else None, reporter=reporter,
        )
    fixes = options.get("fixes")
    return deployments.deploy(
        ws, actor, record.environment, record.version, kind=record.kind,
        emergency=bool(options.get("emergency")), reason=str(reason) if reason else None,
        overrides=[str(o) for o in options.get("overrides") or []],  # type: ignore[union-attr]
        flags=[str(f) for f in options.get("flags") or []],  # type: ignore[union-attr]
        reporter=reporter, fixes=int(fixes) if isinstance(fixes, int) else None,
    )


def hand_back(settings: WorkerSettings, record: QueuedRecord, deployment_id: int) -> None:
    """Graceful shutdown: the lease of ``deployment_id`` expires now and its job goes back
    to the queue, so another worker resumes it at once (between two steps)."""
    from releasegate.engine.api import default_holder
    from releasegate.service import jobs
    from releasegate.store.api import open_store

    store = open_store(settings.db_url)
    try:
        store.expire_lease(record.environment, deployment_id=deployment_id,
                           holder=default_holder(record.user))
        current = store.get_queued(record.id)
    finally:
        store.close()
    if current is not None and current.job_id is not None:
        jobs.retry_now(settings.db_url, current.job_id)
