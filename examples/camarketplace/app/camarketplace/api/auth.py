"""``POST /api/auth/login`` → a bearer token; ``GET /api/auth/me``."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from camarketplace.security import check_password, issue_token
from camarketplace.state import CurrentUser, State

router = APIRouter(prefix="/api/auth")


class Login(BaseModel):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=200)


@router.post("/login")
def login(body: Login, state: State) -> dict[str, object]:
    """Check the password and hand out a token valid for an hour."""
    row = state.db.fetchone(
        "SELECT id, email, name, password_hash FROM users WHERE email = ?", (body.email.lower(),)
    )
    if row is None or not check_password(body.password, row["password_hash"]):
        raise HTTPException(401, "wrong email or password")
    token = issue_token(row["id"], state.settings.secret)
    user = {"id": row["id"], "email": row["email"], "name": row["name"]}
    return {"token": token, "tokenType": "bearer", "expiresIn": 3600, "user": user}


@router.get("/me")
def me(user: CurrentUser) -> dict[str, object]:
    """The signed-in user."""
    return dict(user)
