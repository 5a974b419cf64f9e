"""What every request handler reaches: the app's state, the signed-in user, the clock."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, cast

import redis
from fastapi import Depends, HTTPException, Request

from camarketplace.db import Database, Row
from camarketplace.metrics import Metrics
from camarketplace.security import read_token
from camarketplace.settings import Settings


@dataclass
class AppState:
    """One process's long-lived objects, kept on ``app.state.camarketplace``."""

    settings: Settings
    db: Database
    metrics: Metrics
    redis: redis.Redis | None


def get_state(request: Request) -> AppState:
    """The state of the app serving ``request``."""
    return cast(AppState, request.app.state.camarketplace)


def now_iso() -> str:
    """The current UTC time as ``2026-01-12T10:00:00.000Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id(prefix: str) -> str:
    """A fresh id such as ``pay_3f2a…``."""
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def _current_user(request: Request) -> Row:
    state = get_state(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    user_id = read_token(token, state.settings.secret) if scheme.lower() == "bearer" else None
    user = (
        state.db.fetchone("SELECT id, email, name FROM users WHERE id = ?", (user_id,))
        if user_id
        else None
    )
    if user is None:
        raise HTTPException(401, "sign in first: Authorization: Bearer <token>")
    return user


CurrentUser = Annotated[Row, Depends(_current_user)]
State = Annotated[AppState, Depends(get_state)]
