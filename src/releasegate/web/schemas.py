"""Response models the OpenAPI document publishes for the routes that answer through
:func:`releasegate.web.answer.answer` (which encodes the use case's data itself): the
document says what a client gets, and schemathesis checks the answers against it."""

from __future__ import annotations

from pydantic import BaseModel


class DeploymentItem(BaseModel):
    """A deployment as a listing shows it (``GET /api/v1/deployments/{id}`` has the rest)."""

    id: int
    environment: str
    version: str
    kind: str
    status: str
    user: str
    emergency: bool
    created_at: str
    started_at: str | None
    finished_at: str | None
    detail: str | None


class DeploymentPage(BaseModel):
    """One page of deployments, newest first."""

    items: list[DeploymentItem]
    offset: int
    limit: int
