"""``POST /api/notifications/email`` delivers to a local outbox the smoke test reads back."""

from __future__ import annotations

import json
import os
from pathlib import Path

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from camarketplace.state import CurrentUser, State, new_id, now_iso

router = APIRouter(prefix="/api/notifications")


class NewEmail(BaseModel):
    to: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=20000)


def _outbox(state: State) -> Path:
    return state.settings.data_dir / "outbox"


@router.post("/email", status_code=202)
def send_email(body: NewEmail, user: CurrentUser, state: State) -> dict[str, object]:
    """Deliver an email to the outbox (one JSON file per message, written atomically)."""
    email_id = new_id("email")
    message = {
        "id": email_id,
        "from": "no-reply@camarketplace.test",
        "to": body.to,
        "subject": body.subject,
        "body": body.body,
        "sentBy": user["id"],
        "deliveredAt": now_iso(),
    }
    outbox = _outbox(state)
    outbox.mkdir(parents=True, exist_ok=True)
    partial = outbox / f".{email_id}.tmp"
    partial.write_text(json.dumps(message, indent=2), encoding="utf-8")
    os.replace(partial, outbox / f"{email_id}.json")
    state.db.execute(
        "INSERT INTO notifications (id, user_id, to_address, subject, status, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (email_id, user["id"], body.to, body.subject, "delivered", message["deliveredAt"]),
    )
    return {"id": email_id, "status": "delivered", "to": body.to}


@router.get("/outbox/{email_id}")
def read_outbox(email_id: str, user: CurrentUser, state: State) -> dict[str, object]:
    """A delivered message, read back from the outbox."""
    path = _outbox(state) / f"{email_id}.json"
    if not email_id.replace("_", "").isalnum() or not path.is_file():
        raise HTTPException(404, f"no message {email_id} in the outbox")
    message: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return message
