"""``/api/v1`` routes that act: deploy, rollback, cancel (a deployment, a queued one),
sign-offs, the calendar.

Each calls one use case with the token's actor: who may do what is decided there, as on
the command line. Deployments and rollbacks run in the server's process (no workers:
the embedded default); the answer comes as soon as the deployment is recorded. When
workers are live (team mode, docs/team-mode.md) they are queued for them instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from releasegate.identity import Actor
from releasegate.service import calendar, deployments, queue, queue_cancel, signoffs
from releasegate.service.results import Outcome
from releasegate.service.workspace import Workspace
from releasegate.web.launch import Launch, launch
from releasegate.web.state import bearer_actor, state_of

router = APIRouter(prefix="/api/v1", tags=["act"])
Caller = Annotated[Actor, Depends(bearer_actor)]
Json = dict[str, Any]
Text = Annotated[str, Field(min_length=1, max_length=256)]
Note = Annotated[str | None, Field(max_length=4000)]


class DeployBody(BaseModel):
    environment: Text
    version: Text
    kind: str = "normal"
    emergency: bool = False
    reason: Note = None


class RollbackBody(BaseModel):
    environment: Text
    to: Text | None = None
    reason: Note = None


class ApprovalBody(BaseModel):
    environment: Text
    version: Text
    role: Text
    note: Note = None


class ConfirmationBody(BaseModel):
    deployment: int = Field(ge=1, le=2**63 - 1)
    item: Text
    note: Note = None


class FreezeBody(BaseModel):
    environment: Text = "all"
    start: datetime
    end: datetime
    reason: Text
    hard: bool = False


class IncidentBody(BaseModel):
    title: Text
    severity: Text
    impact: Text
    environment: Text = "all"


class CloseBody(BaseModel):
    note: Note = None


class CampaignBody(BaseModel):
    name: Text
    at: datetime
    buffer: str | None = Field(None, max_length=64)
    environment: Text = "all"


async def _started(request: Request, name: str, work: Any) -> JSONResponse:
    state = state_of(request)
    run = launch(state.factory, work, state.runs, name)
    await anyio.to_thread.run_sync(run.started)
    if run.error is not None:
        raise run.error
    if run.outcome is not None:  # over before the request was answered (blocked, quick)
        return JSONResponse(run.outcome.to_json(), status_code=200)
    return JSONResponse(
        {"deployment_id": run.deployment_id, "status": "running",
         "events": f"/api/v1/deployments/{run.deployment_id}/events"},
        status_code=202,
    )


async def _queued(request: Request, actor: Actor, req: queue.Request) -> JSONResponse | None:
    """Team mode: when workers are live, the deployment is queued for them (202 with the
    queued deployment); otherwise None, and it runs in this process."""
    ws = state_of(request).workspace
    if not await anyio.to_thread.run_sync(queue.workers_live, ws):
        return None
    record = await anyio.to_thread.run_sync(queue.enqueue, ws, actor, req)
    return JSONResponse({"queued": record.to_json(), "status": record.status}, status_code=202)


@router.post("/deployments", status_code=202)
async def deploy(request: Request, actor: Caller, body: DeployBody) -> JSONResponse:
    """Deploy a version: 202 with the deployment's id once it is recorded (follow it on
    its event stream), or the refusal (403, 409 blocked, 423 locked)."""

    queued = await _queued(request, actor, queue.Request(
        "deploy", body.environment, body.version, kind=body.kind, emergency=body.emergency,
        reason=body.reason))
    if queued is not None:
        return queued

    def work(ws: Workspace, run: Launch) -> Outcome:
        return deployments.deploy(
            ws, actor, body.environment, body.version, kind=body.kind,
            emergency=body.emergency, reason=body.reason, reporter=run,
        )

    return await _started(request, f"deploy-{body.environment}", work)


@router.post("/rollbacks", status_code=202)
async def rollback(request: Request, actor: Caller, body: RollbackBody) -> JSONResponse:
    """Roll an environment back (never blocked by a window or a freeze)."""

    queued = await _queued(request, actor, queue.Request(
        "rollback", body.environment, body.to, kind="rollback", reason=body.reason))
    if queued is not None:
        return queued

    def work(ws: Workspace, run: Launch) -> Outcome:
        return deployments.rollback(
            ws, actor, body.environment, to=body.to, reason=body.reason, reporter=run
        )

    return await _started(request, f"rollback-{body.environment}", work)


@router.post("/deployments/{id}/cancel")
def cancel(request: Request, actor: Caller, id: int) -> Json:
    """Cancel a deployment that is waiting."""
    return deployments.cancel(state_of(request).workspace, actor, id).to_json()


@router.post("/queue/{id}/cancel")
def cancel_queued(request: Request, actor: Caller, id: int) -> Json:
    """Cancel a queued deployment before a worker starts it (409 when a worker was first)."""
    return queue_cancel.cancel(state_of(request).workspace, actor, id).to_json()


@router.post("/approvals", status_code=201)
def approve(request: Request, actor: Caller, body: ApprovalBody) -> Json:
    """Approve a version for an environment in a role you hold (409: approved already)."""
    ws = state_of(request).workspace
    done = signoffs.approve(ws, actor, body.environment, body.version, role=body.role, note=body.note)
    return {**done.to_json(), "text": done.text}


@router.post("/confirmations", status_code=201)
def confirm(request: Request, actor: Caller, body: ConfirmationBody) -> Json:
    """Sign a checklist item of a deployment (a waiting deployment goes on)."""
    ws = state_of(request).workspace
    done = signoffs.confirm(ws, actor, body.deployment, body.item, note=body.note)
    return {**done.to_json(), "text": done.text}


@router.post("/freezes", status_code=201)
def add_freeze(request: Request, actor: Caller, body: FreezeBody) -> Json:
    """Freeze deployments to an environment (``all``: every one) for a while."""
    ws = state_of(request).workspace
    done = calendar.add_freeze(
        ws, actor, env=body.environment, start=_aware(body.start), end=_aware(body.end),
        reason=body.reason, hard=body.hard,
    )
    return {**done.to_json(), "text": done.text}


@router.delete("/freezes/{id}")
def remove_freeze(request: Request, actor: Caller, id: int) -> Json:
    """Lift a freeze (a hard one needs freeze.remove-hard)."""
    return calendar.remove_freeze(state_of(request).workspace, actor, id).to_json()


@router.post("/incidents", status_code=201)
def open_incident(request: Request, actor: Caller, body: IncidentBody) -> Json:
    """Open an incident: the decision matrix's action and deadline; it may freeze."""
    ws = state_of(request).workspace
    done = calendar.open_incident(
        ws, actor, body.title, severity=body.severity, impact=body.impact, env=body.environment
    )
    return {**done.to_json(), "text": done.text}


@router.post("/incidents/{id}/close")
def close_incident(request: Request, actor: Caller, id: int, body: CloseBody) -> Json:
    """Close an incident."""
    return calendar.close_incident(state_of(request).workspace, actor, id, note=body.note).to_json()


@router.post("/campaigns", status_code=201)
def add_campaign(request: Request, actor: Caller, body: CampaignBody) -> Json:
    """Record a marketing campaign: no deployments within its buffer."""
    ws = state_of(request).workspace
    done = calendar.add_campaign(
        ws, actor, body.name, at=_aware(body.at), buffer=body.buffer, env=body.environment
    )
    return {**done.to_json(), "text": done.text}


@router.post("/obligations/{id}/close")
def close_obligation(request: Request, actor: Caller, id: int, body: CloseBody) -> Json:
    """Close an obligation an emergency deployment opened."""
    ws = state_of(request).workspace
    return calendar.close_obligation(ws, actor, id, note=body.note).to_json()


def _aware(at: datetime) -> datetime:
    """A time without an offset is UTC (as on the command line)."""
    from datetime import UTC

    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
