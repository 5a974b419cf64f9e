"""Reading the record page by page, as the web API and dashboard show it: deployments
listed with filters, a deployment's events after a given one (a live stream's next batch)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from releasegate.errors import UsageError
from releasegate.identity import Actor
from releasegate.service.inputs import check_environment, check_id
from releasegate.service.workspace import Workspace
from releasegate.store.records import DEPLOYMENT_STATUSES, FINAL_STATUSES

MAX_PAGE = 500
"""The most rows one page holds."""
STATUSES: tuple[str, ...] = tuple(DEPLOYMENT_STATUSES)
"""What a deployment's status may be (a listing's filter)."""


def _when(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at else None


def deployments(
    ws: Workspace, actor: Actor, *, env: str | None = None, status: str | None = None,
    offset: int = 0, limit: int = 50,
) -> list[dict[str, Any]]:
    """Deployments newest first, of ``env`` and ``status`` if given, ``limit`` from
    ``offset`` (no plans: a listing stays small)."""
    if env is not None:
        check_environment(list(ws.config.environments), env)
    if not 0 < limit <= MAX_PAGE:
        raise UsageError(f"limit {limit}: between 1 and {MAX_PAGE}")
    if status is not None and status not in DEPLOYMENT_STATUSES:
        raise UsageError(f"status {status!r}: use {', '.join(DEPLOYMENT_STATUSES)}")
    if offset < 0:
        raise UsageError(f"offset {offset}: not negative")
    rows = ws.store.list_deployment_page(environment=env, status=status, offset=offset, limit=limit)
    return [row._asdict() for row in rows]


@dataclass(frozen=True)
class EventBatch:
    """A deployment's events after a given id, and whether the deployment is over."""

    events: list[dict[str, Any]]
    finished: bool


def events(
    ws: Workspace, actor: Actor, deployment_id: int, *, after: int = 0, limit: int = 200
) -> EventBatch:
    """The events of ``deployment_id`` with an id above ``after`` (the seals, which only
    ``audit verify`` needs, left out)."""
    check_id(deployment_id, "deployment")
    store = ws.store
    dep = store.get_deployment(deployment_id)
    if dep is None:
        raise UsageError(f"there is no deployment {deployment_id}")
    found = store.list_events(deployment_id=deployment_id, after_id=max(after, 0), limit=limit)
    return EventBatch(
        [
            {"id": e.id, "type": e.type, "at": _when(e.at),
             "data": {k: v for k, v in e.data.items() if k != "_seals"}}
            for e in found
        ],
        dep.status in FINAL_STATUSES and len(found) < limit,
    )
