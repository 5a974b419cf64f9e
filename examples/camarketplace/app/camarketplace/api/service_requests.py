"""``POST /api/service-requests`` and reading them back."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from camarketplace.db import Row
from camarketplace.state import CurrentUser, State, new_id, now_iso

router = APIRouter(prefix="/api/service-requests")

_COLUMNS = "id, title, description, category, status, created_at"


class NewServiceRequest(BaseModel):
    title: str = Field(min_length=3, max_length=200)
    description: str = Field(default="", max_length=5000)
    category: Literal["gst-filing", "income-tax", "audit", "company-registration", "other"] = (
        "other"
    )


def _public(row: Row) -> dict[str, object]:
    return {
        "id": row["id"],
        "title": row["title"],
        "description": row["description"],
        "category": row["category"],
        "status": row["status"],
        "createdAt": row["created_at"],
    }


@router.post("", status_code=201)
def create(body: NewServiceRequest, user: CurrentUser, state: State) -> dict[str, object]:
    """Open a service request for the signed-in customer."""
    request_id = new_id("sr")
    state.db.execute(
        f"INSERT INTO service_requests (user_id, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (user["id"], request_id, body.title, body.description, body.category, "open", now_iso()),
    )
    return show(request_id, user, state)


@router.get("/{request_id}")
def show(request_id: str, user: CurrentUser, state: State) -> dict[str, object]:
    """One of the signed-in customer's service requests."""
    row = state.db.fetchone(
        f"SELECT {_COLUMNS} FROM service_requests WHERE id = ? AND user_id = ?",
        (request_id, user["id"]),
    )
    if row is None:
        raise HTTPException(404, f"no service request {request_id}")
    return _public(row)
