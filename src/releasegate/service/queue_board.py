"""The queue as the dashboard and ``GET /api/v1/queue`` show it: each queued deployment
that has not ended, with where it stands — queued (behind which), waiting for policy (why,
when policy is decided again, ``--until``), or running on which worker as which deployment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from releasegate.errors import ReleasegateError, UsageError
from releasegate.identity import Actor
from releasegate.service import jobs, queue
from releasegate.service.inputs import check_environment
from releasegate.service.workspace import Workspace
from releasegate.store.queue import QueuedRecord


def board(ws: Workspace, actor: Actor, *, environment: str | None = None,
          open_only: bool = True, limit: int = 100) -> list[dict[str, Any]]:
    """The queued deployments (newest first), each as ``to_json`` plus ``next_decision_at``
    (a waiting one: when its job decides policy again — the next time policy allows it,
    or in a minute when policy cannot name one) and ``behind`` (a queued one: the ids of
    the open ones of its environment queued before it)."""
    del actor  # everyone who may read the record may read the queue
    if environment is not None:
        check_environment(list(ws.config.environments), environment)
    found = [r for r in queue.listing(ws, open_only=open_only, limit=limit)
             if environment is None or r.environment == environment]
    due = _due(ws, [r for r in found if r.status == "waiting"])
    return [_shown(r, found, due) for r in found]


def board_or_empty(ws: Workspace, actor: Actor) -> list[dict[str, Any]]:
    """:func:`board`, or nothing where there is no queue (a SQLite store, a store that
    predates team mode): the dashboard shows the queue only where there is one."""
    try:
        jobs.conninfo(ws.database_url)
        return board(ws, actor)
    except ReleasegateError:
        return []


def _due(ws: Workspace, waiting: Sequence[QueuedRecord]) -> dict[int, str]:
    ids = [r.job_id for r in waiting if r.job_id is not None]
    try:
        runs = jobs.next_runs(ws.database_url, ids) if ids else {}
    except UsageError:
        return {}
    return {job: at.isoformat() for job, at in runs.items()}


def _shown(record: QueuedRecord, found: Sequence[QueuedRecord], due: dict[int, str]) -> dict[str, Any]:
    shown: dict[str, Any] = dict(record.to_json())
    shown["next_decision_at"] = due.get(record.job_id or 0) if record.status == "waiting" else None
    shown["behind"] = sorted(
        r.id for r in found
        if r.status in ("queued", "running") and r.environment == record.environment
        and r.id < record.id
    ) if record.status == "queued" else []
    return shown
