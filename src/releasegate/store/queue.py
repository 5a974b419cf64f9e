"""Queued deployments: the facts of team mode (``deploy --queue``, workers).

The job library (procrastinate) decides *which worker* runs a job and *when*; these rows
say *what* the job is (the config as validated, the repository and commit, who asked) and
how it ended. The environment's lease stays the one source of truth about who is deploying.
Every change appends an event (``queue.*``) in the same transaction, so the audit trail
tells a queued deployment's story from queued to done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Row

from releasegate.errors import StoreError
from releasegate.store import schema
from releasegate.store.base import StoreBase, to_record
from releasegate.store.records import JsonDict

_Q = schema.queued_deployments

QUEUED_STATUSES = ("queued", "waiting", "running", "done", "failed", "expired", "cancelled")
OPEN_STATUSES = ("queued", "waiting", "running")
"""A queued deployment in one of these has not ended yet."""
CANCELLABLE = ("queued", "waiting")
"""A queued deployment no worker has taken yet: it may still be cancelled."""


@dataclass(frozen=True)
class QueuedRecord:
    """One queued deployment (a row of ``queued_deployments``)."""

    id: int
    project: str
    environment: str
    version: str
    kind: str
    action: str
    options: JsonDict
    user: str
    via: str | None
    os_user: str | None
    repository: str
    commit: str
    config_path: str
    config_text: str
    queue: str
    job_id: int | None
    status: str
    waiting: str | None
    not_after: datetime | None
    deployment_id: int | None
    worker: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    detail: str | None

    def to_json(self) -> JsonDict:
        """What ``status``, ``workers`` and the API show (never the config text)."""
        return {
            "id": self.id, "environment": self.environment, "version": self.version,
            "kind": self.kind, "action": self.action, "user": self.user, "queue": self.queue,
            "job_id": self.job_id, "status": self.status, "waiting": self.waiting,
            "deployment_id": self.deployment_id, "worker": self.worker,
            "commit": self.commit, "repository": self.repository,
            "created_at": self.created_at.isoformat(),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "not_after": self.not_after.isoformat() if self.not_after else None,
            "detail": self.detail,
        }


def _record(row: Row[Any]) -> QueuedRecord:
    return to_record(QueuedRecord, row)


class Queue(StoreBase):
    """Recording, claiming and ending queued deployments."""

    def enqueue(self, **values: Any) -> QueuedRecord:
        """Record a queued deployment (status ``queued``, or ``waiting`` when it starts only
        once policy allows it); ``values`` are named after the columns."""
        values = {**values, "created_at": self._now()}
        values.setdefault("status", "queued")
        with self._write_conn() as conn:
            id = conn.execute(insert(_Q).returning(_Q.c.id), values).scalar_one()
            data: JsonDict = {
                "queued": id, "environment": values["environment"], "version": values["version"],
                "kind": values["kind"], "action": values["action"], "user": values["user"],
                "repository": values["repository"], "commit": values["commit"],
                "queue": values["queue"],
            }
            self._append_conn(conn, "queue.queued", data)
            row = conn.execute(select(_Q).where(_Q.c.id == id)).one()
        return _record(row)

    def get_queued(self, id: int) -> QueuedRecord | None:
        with self._read() as session:
            row = session.execute(select(_Q).where(_Q.c.id == id)).first()
        return None if row is None else _record(row)

    def list_queued(
        self, *, statuses: tuple[str, ...] | None = None, environment: str | None = None,
        limit: int = 100,
    ) -> list[QueuedRecord]:
        """Newest first."""
        query = select(_Q).order_by(_Q.c.id.desc()).limit(limit)
        if statuses is not None:
            query = query.where(_Q.c.status.in_(statuses))
        if environment is not None:
            query = query.where(_Q.c.environment == environment)
        with self._read() as session:
            return [_record(r) for r in session.execute(query)]

    def queue_depth(self) -> dict[str, tuple[int, datetime | None]]:
        """By open status (queued, waiting, running): how many, and when the oldest was
        queued (the typed column, so SQLite's text reads back as aware UTC)."""
        counts = select(_Q.c.status, func.count()).where(_Q.c.status.in_(OPEN_STATUSES))
        out: dict[str, tuple[int, datetime | None]] = {}
        with self._engine.connect() as conn:
            for status, n in conn.execute(counts.group_by(_Q.c.status)).all():
                oldest = conn.execute(
                    select(_Q.c.created_at).where(_Q.c.status == status)
                    .order_by(_Q.c.status, _Q.c.id).limit(1)
                ).scalar()
                out[str(status)] = (int(n), oldest)
        return out

    def _change(
        self, id: int, event: str, data: JsonDict, *, only: tuple[str, ...] = OPEN_STATUSES,
        **values: Any,
    ) -> QueuedRecord | None:
        """Change queued deployment ``id`` if its status is one of ``only`` (one UPDATE,
        so a cancel and a claim racing each other cannot both win); None when it is not."""
        with self._write_conn() as conn:
            done = conn.execute(
                update(_Q).where(_Q.c.id == id, _Q.c.status.in_(only))
                .values(**values).returning(*_Q.c)
            ).first()
            if done is None:
                if conn.execute(select(_Q.c.id).where(_Q.c.id == id)).first() is None:
                    raise StoreError(f"there is no queued deployment {id}")
                return None
            self._append_conn(conn, event, {"queued": id, **data},
                              deployment_id=values.get("deployment_id") or done.deployment_id)
        return _record(done)

    def set_job(self, id: int, job_id: int) -> None:
        """The job library's id of the job that runs queued deployment ``id``."""
        with self._write_conn() as conn:
            conn.execute(update(_Q).where(_Q.c.id == id).values(job_id=job_id))

    def claim_queued(self, id: int, *, worker: str) -> QueuedRecord | None:
        """A worker starts (or takes over) queued deployment ``id``; None when it has ended
        meanwhile (cancelled before it started: it never runs)."""
        with self._write_conn() as conn:
            current = conn.execute(
                select(_Q.c.worker, _Q.c.started_at).where(
                    _Q.c.id == id, _Q.c.status.in_(OPEN_STATUSES)).with_for_update()
            ).first()
            if current is None:
                if conn.execute(select(_Q.c.id).where(_Q.c.id == id)).first() is None:
                    raise StoreError(f"there is no queued deployment {id}")
                return None
            done = conn.execute(
                update(_Q).where(_Q.c.id == id).values(
                    status="running", worker=worker, waiting=None,
                    started_at=current.started_at or self._now(),
                ).returning(*_Q.c)
            ).one()
            self._append_conn(conn, "queue.claimed", {
                "queued": id, "worker": worker, "takeover": current.worker is not None,
            }, deployment_id=done.deployment_id)
        return _record(done)

    def requeue_queued(self, id: int, *, worker: str, reason: str) -> bool:
        """A worker that claimed queued deployment ``id`` could not start it (the
        environment is held): it is ``queued`` again — so it may still be cancelled — until
        its job runs again. Only while it has not become a deployment, and only by the
        worker that claimed it."""
        with self._write_conn() as conn:
            done = conn.execute(
                update(_Q).where(
                    _Q.c.id == id, _Q.c.status == "running", _Q.c.worker == worker,
                    _Q.c.deployment_id.is_(None),
                ).values(status="queued", worker=None, waiting=reason)
            ).rowcount
            if done:
                self._append_conn(conn, "queue.requeued",
                                  {"queued": id, "worker": worker, "reason": reason})
        return bool(done)

    def link_queued(self, id: int, deployment_id: int) -> None:
        """The deployment queued deployment ``id`` became (once, the first time it is known)."""
        with self._write_conn() as conn:
            changed = conn.execute(
                update(_Q).where(_Q.c.id == id, _Q.c.deployment_id.is_(None))
                .values(deployment_id=deployment_id)
            ).rowcount
            if changed:
                self._append_conn(conn, "queue.started", {"queued": id},
                                  deployment_id=deployment_id)

    def wait_queued(self, id: int, *, reason: str) -> QueuedRecord | None:
        """Queued deployment ``id`` waits for policy to allow it (``--when-allowed``);
        None when it is no longer waiting (cancelled meanwhile)."""
        return self._change(id, "queue.waiting", {"reason": reason}, only=("waiting",),
                            status="waiting", waiting=reason, worker=None)

    def end_queued(self, id: int, status: str, *, detail: str) -> QueuedRecord:
        """End queued deployment ``id``: ``done`` (its deployment ended, whatever its
        status), ``failed`` (it could not become one), ``expired``, ``cancelled``."""
        if status not in QUEUED_STATUSES or status in OPEN_STATUSES:
            raise ValueError(f"{status!r} does not end a queued deployment")
        with self._write_conn() as conn:
            done = conn.execute(
                update(_Q).where(_Q.c.id == id, _Q.c.status.in_(OPEN_STATUSES))
                .values(status=status, detail=detail, finished_at=self._now(), waiting=None)
                .returning(*_Q.c)
            ).first()
            if done is None:  # already ended: ending is done once
                row = conn.execute(select(_Q).where(_Q.c.id == id)).first()
                if row is None:
                    raise StoreError(f"there is no queued deployment {id}")
                return _record(row)
            self._append_conn(conn, f"queue.{status}", {"queued": id, "detail": detail},
                              deployment_id=done.deployment_id)
        return _record(done)

    def ready_queued(self, id: int) -> QueuedRecord | None:
        """A ``--when-allowed`` deployment that policy now allows: queued to run (None
        when it is no longer waiting: cancelled meanwhile)."""
        return self._change(id, "queue.allowed", {}, only=("waiting",), status="queued",
                            waiting=None, worker=None)

    def cancel_queued(self, id: int, *, by: str) -> tuple[QueuedRecord, bool]:
        """Cancel queued deployment ``id`` before a worker starts it: one UPDATE … WHERE
        status IN ('queued', 'waiting'), so a worker that claimed it first wins. Returns
        the row as it is now, and whether this call cancelled it."""
        detail = f"cancelled by {by} before it started"
        done = self._change(id, "queue.cancelled", {"detail": detail, "by": by},
                            only=CANCELLABLE, status="cancelled", detail=detail,
                            finished_at=self._now(), waiting=None)
        if done is not None:
            return done, True
        found = self.get_queued(id)
        assert found is not None  # _change raised StoreError otherwise
        return found, False

    def expire_lease(self, environment: str, *, deployment_id: int, holder: str) -> bool:
        """Hand a lease back (graceful shutdown): it expires now, so another worker's
        resume takes it over at once; the event says who handed it back."""
        locks = schema.locks
        with self._write_conn() as conn:
            self._serialise_lease(conn, environment)
            now = self._now()
            done = conn.execute(
                update(locks).where(
                    locks.c.environment == environment, locks.c.deployment_id == deployment_id,
                    locks.c.holder == holder,
                ).values(expires_at=now, heartbeat_at=now)
            ).rowcount
            if done:
                self._append_conn(conn, "deployment.handed_back",
                                  {"environment": environment, "holder": holder},
                                  deployment_id=deployment_id)
        return bool(done)

    def _serialise_lease(self, conn: Any, environment: str) -> None:
        if self.dialect == "postgresql":
            from sqlalchemy import text

            conn.execute(text("SELECT pg_advisory_xact_lock(:ns, hashtext(:key))"),
                         {"ns": 0x72676C6B, "key": environment})
