"""Cancelling a queued deployment before a worker starts it (``cancel q12``, the API).

The database decides who wins: the store's row goes from ``queued``/``waiting`` to
``cancelled`` in one UPDATE, and a worker claims a row only while it is still open — so
either the cancel or the worker is first, never both. Then the job library's job is
cancelled too (it would find nothing to do anyway); the ``queue.cancelled`` event records
who cancelled it.
"""

from __future__ import annotations

from dataclasses import dataclass

from releasegate.errors import ConflictError, UsageError
from releasegate.identity import Actor
from releasegate.service import jobs
from releasegate.service.auth import authorize
from releasegate.service.inputs import check_id
from releasegate.service.workspace import Workspace
from releasegate.store.queue import QueuedRecord


@dataclass(frozen=True)
class Cancelled:
    """A queued deployment cancelled, and whether its job was still waiting in the job
    library (False: a worker had just picked the job up; it finds the row cancelled)."""

    record: QueuedRecord
    job_cancelled: bool

    def to_json(self) -> dict[str, object]:
        return {**self.record.to_json(), "job_cancelled": self.job_cancelled}


def cancel(ws: Workspace, actor: Actor, id: int) -> Cancelled:
    """Cancel queued deployment ``id`` if no worker has started it; ConflictError when a
    worker was first (it runs to its end), UsageError when it has ended already."""
    authorize(ws.config, actor, "cancel")
    check_id(id, "queued deployment")
    if ws.store.get_queued(id) is None:
        raise UsageError(f"there is no queued deployment q{id}")
    record, cancelled = ws.store.cancel_queued(id, by=actor.name)
    if not cancelled:
        raise _refusal(record)
    job_cancelled = False
    if record.job_id is not None:
        job_cancelled = jobs.cancel_job(ws.database_url, record.job_id)
    return Cancelled(record, job_cancelled)


def _refusal(record: QueuedRecord) -> Exception:
    name = f"q{record.id} ({record.action} {record.environment} {record.version})".replace(" )", ")")
    if record.status == "running":
        became = f" as deployment {record.deployment_id}" if record.deployment_id else ""
        return ConflictError(
            f"{name} cannot be cancelled: worker {record.worker} started it first{became}; "
            "it runs to its end (roll it back afterwards if need be)"
        )
    return UsageError(f"{name} has already ended ({record.status}: {record.detail or ''})".replace(": )", ")"))
