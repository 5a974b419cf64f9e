"""``/api/v1`` routes that read: environments, deployments, events, plans, policy, calendar."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from releasegate.identity import Actor
from releasegate.service import (
    browse,
    calendar,
    deployments,
    explain,
    metrics,
    queue_board,
    records,
    show,
)
from releasegate.service.workspace import Workspace
from releasegate.web.answer import answer
from releasegate.web.schemas import DeploymentPage
from releasegate.web.sse import event_stream
from releasegate.web.state import bearer_actor, state_of

router = APIRouter(prefix="/api/v1", tags=["read"])
Caller = Annotated[Actor, Depends(bearer_actor)]
Json = dict[str, Any]


def _plain(value: object) -> Any:
    """A record (a dataclass) as JSON-able data, times as ISO 8601."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@router.get("/environments")
def list_environments(request: Request, actor: Caller) -> list[Json]:
    """Every environment: live version, lock, what is running, the policy now (window
    open or closed, freezes in force, the next allowed time)."""
    ws = state_of(request).workspace
    found = records.status(ws, actor)
    return [_environment(request, actor, row) for row in found.environments]


@router.get("/environments/{environment}")
def get_environment(request: Request, actor: Caller, environment: str) -> Json:
    """One environment, as in the list."""
    ws = state_of(request).workspace
    row = records.status(ws, actor, environment).environments[0]
    return _environment(request, actor, row)


def _environment(request: Request, actor: Actor, row: records.EnvironmentStatus) -> Json:
    ws = state_of(request).workspace
    decision = explain.explain(ws, actor, row.environment).decision
    policy = decision.to_json()
    return {
        **_plain(row),
        "policy": {
            "allowed_now": decision.allowed,
            "next_allowed_at": policy["next_allowed_at"],
            "next_allowed_note": policy.get("next_allowed_note"),
            "rules": policy["results"],
        },
        "freezes_in_force": [r.reason for r in decision.denied if r.rule.startswith("freeze")],
    }


@router.get("/deployments", response_model=DeploymentPage)
async def list_deployments(
    request: Request,
    environment: str | None = None,
    status: str | None = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=browse.MAX_PAGE)] = 50,
) -> Response:
    """Deployments newest first, filtered by environment and status, a page at a time."""

    def work(ws: Workspace, actor: Actor) -> Json:
        rows = browse.deployments(
            ws, actor, env=environment, status=status, offset=offset, limit=limit
        )
        return {"items": rows, "offset": offset, "limit": limit}

    return await answer(request, work)


@router.get("/deployments/{id}")
def get_deployment(request: Request, actor: Caller, id: int) -> Json:
    """A deployment as a filled-in checklist: steps, evidence, sign-offs, the policy
    decision, and the items it waits for someone to sign now."""
    ws = state_of(request).workspace
    shown = show.show(ws, actor, id)
    return {**shown, "waiting_for": records.waiting_signatures(ws, actor, id)}


@router.get(
    "/deployments/{id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def deployment_events(request: Request, actor: Caller, id: int) -> StreamingResponse:
    """The deployment's events as Server-Sent Events, live until it finishes; resumable
    with ``Last-Event-ID`` (each event's ``id`` is its id in the audit log)."""
    ws = state_of(request).workspace
    after = _last_event_id(request.headers.get("last-event-id"))
    browse.events(ws, actor, id, after=after, limit=1)  # a 404 before the stream starts
    return StreamingResponse(
        event_stream(request, lambda after: browse.events(ws, actor, id, after=after), after),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no"},
    )


def _last_event_id(value: str | None) -> int:
    if value is None or not value.strip().isdigit():
        return 0
    return min(int(value), 2**63 - 1)


@router.get("/plan")
def plan(
    request: Request, actor: Caller, environment: str, version: str, kind: str = "normal"
) -> Json:
    """The dry run: the steps deploying ``version`` would take, and what policy says now."""
    ws = state_of(request).workspace
    the_plan, verdict = deployments.plan(ws, actor, environment, version, kind=kind)
    return {"plan": the_plan.to_json(), "policy": verdict.record}


@router.get("/explain")
def policy_explain(
    request: Request, actor: Caller, environment: str, at: str | None = None,
    version: str | None = None, kind: str = "normal",
) -> Json:
    """Every rule for ``environment`` (at ``at``, ISO 8601), allow or deny, and the next
    allowed time."""
    ws = state_of(request).workspace
    when = explain.parse_time(at, "at") if at is not None else None
    verdict = explain.explain(ws, actor, environment, at=when, version=version, kind=kind)
    return {**verdict.record, "explanation": verdict.decision.explain()}


@router.get("/queue")
def list_queue(
    request: Request, actor: Caller, environment: str | None = None,
    include_ended: bool = False, limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Json]:
    """Team mode's queued deployments, newest first: queued (``behind`` which), waiting
    for policy (``waiting``: why; ``next_decision_at``; ``not_after``: ``--until``),
    running (``worker``, ``deployment_id``); ended ones too with ``include_ended``."""
    ws = state_of(request).workspace
    return queue_board.board(ws, actor, environment=environment,
                             open_only=not include_ended, limit=limit)


@router.get("/freezes")
def list_freezes(request: Request, actor: Caller) -> list[Json]:
    """Ad-hoc freezes, recorded with who and why."""
    return [_plain(f) for f in calendar.list_freezes(state_of(request).workspace, actor)]


@router.get("/incidents")
def list_incidents(request: Request, actor: Caller, include_closed: bool = False) -> list[Json]:
    """Open incidents (closed ones too with ``include_closed``)."""
    ws = state_of(request).workspace
    return [_plain(i) for i in calendar.list_incidents(ws, actor, include_closed=include_closed)]


@router.get("/campaigns")
def list_campaigns(request: Request, actor: Caller) -> list[Json]:
    """Marketing campaigns and their buffers."""
    return [_plain(c) for c in calendar.list_campaigns(state_of(request).workspace, actor)]


@router.get("/obligations")
def list_obligations(request: Request, actor: Caller, include_closed: bool = False) -> list[Json]:
    """What emergency deployments left to do (monitoring, post-mortems)."""
    ws = state_of(request).workspace
    return [_plain(o) for o in calendar.list_obligations(ws, actor, include_closed=include_closed)]


@router.get("/metrics")
def get_metrics(
    request: Request, actor: Caller, environment: str | None = None, since: str = "90d",
    until: str | None = None, project: str | None = None,
) -> Json:
    """Every figure of ``releasegate metrics`` graded against ``metrics.targets``:
    ``environment`` (default production, ``all``), ``since`` (``90d`` or ISO 8601),
    ``until``, ``project`` (default the config's, ``all``)."""
    ws = state_of(request).workspace
    where = metrics.scope(ws, project=project, env=environment, since=since, until=until)
    return metrics.metrics(ws, actor, where).to_json()


@router.get("/audit/verify")
def audit_verify(request: Request, actor: Caller) -> Json:
    """Verify the event chain, the seals, the anchors and the signatures."""
    return records.audit_verify(state_of(request).workspace, actor).to_json()
