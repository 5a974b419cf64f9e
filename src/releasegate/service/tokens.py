"""API tokens: create (shown once), list, revoke, and authenticate a presented token.

A token carries a user; that user's roles come from the config, as on the command line,
so the CLI and the API cannot disagree about what someone may do. Only a SHA-256 of the
token is stored: tokens are 256 random bits, so a plain hash is as strong as a slow one.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from releasegate.errors import IdentityError, UsageError
from releasegate.identity import Actor, actor_for
from releasegate.service.auth import authorize
from releasegate.service.workspace import Workspace

if TYPE_CHECKING:
    from releasegate.store.tokens import TokenRecord

PREFIX = "rg_"
"""Every token starts with this, so a secret scanner (and a person) can tell what it is."""
INVALID = "the API token is missing, malformed, unknown, revoked or expired"
"""One message for every refusal: a caller learns nothing about which tokens exist."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_SHAPE = re.compile(r"^rg_[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True)
class Token:
    """A token as listed (never the token itself)."""

    name: str
    user: str | None
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    @property
    def state(self) -> str:
        """``active``, ``revoked`` or ``expired``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= datetime.now(UTC):
            return "expired"
        return "active"

    def to_json(self) -> dict[str, Any]:
        def iso(at: datetime | None) -> str | None:
            return at.isoformat() if at else None

        return {
            "name": self.name, "user": self.user, "state": self.state,
            "created_at": iso(self.created_at), "last_used_at": iso(self.last_used_at),
            "expires_at": iso(self.expires_at), "revoked_at": iso(self.revoked_at),
        }  # fmt: skip


@dataclass(frozen=True)
class Created:
    """A new token: the secret (shown this once) and its record."""

    secret: str
    token: Token


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _token(record: TokenRecord) -> Token:
    return Token(
        record.name, record.user, record.created_at, record.last_used_at, record.expires_at,
        record.revoked_at,
    )


def create_token(
    ws: Workspace, actor: Actor, name: str, *, user: str, expires: str | None = None
) -> Created:
    """Make a token named ``name`` acting as ``user`` (who must be in ``users:`` when the
    config lists users), expiring after ``expires`` (``30d``, ``12h``; None: never)."""
    from releasegate.config.types import parse_duration

    config = ws.config
    authorize(config, actor, "token.create")
    if not _NAME.match(name):
        raise UsageError(f"token name {name!r}: use letters, digits, '.', '_' and '-'")
    if config.users and user not in config.users:
        raise UsageError(f"--user {user!r} is not listed in users")
    if not user.strip():
        raise UsageError("--user needs a user name")
    expires_at = None
    if expires is not None:
        try:
            span = parse_duration(expires)
        except ValueError as exc:
            raise UsageError(f"--expires: {exc}") from None
        if span.total_seconds() <= 0:
            raise UsageError(f"--expires {expires!r}: a token must live a while")
        expires_at = datetime.now(UTC) + span
    secret = PREFIX + secrets.token_urlsafe(32)
    record = ws.store.add_token(
        name=name, user=user, token_hash=_hash(secret), expires_at=expires_at, by=actor.name
    )
    return Created(secret, _token(record))


def list_tokens(ws: Workspace, actor: Actor) -> list[Token]:
    """Every token, oldest first (revoked and expired ones say so)."""
    authorize(ws.config, actor, "token.create")
    return [_token(r) for r in ws.store.list_tokens()]


def revoke_token(ws: Workspace, actor: Actor, name: str) -> Token:
    """Revoke the token ``name``: from now on it authenticates nobody."""
    authorize(ws.config, actor, "token.revoke")
    return _token(ws.store.revoke_token(name, by=actor.name))


def authenticate(ws: Workspace, secret: str, *, os_user: str) -> Actor:
    """The actor a presented token stands for (``via="token"``), with the roles the config
    gives its user. Raises :class:`IdentityError` with :data:`INVALID` for a token that is
    malformed, unknown, revoked or expired, or whose user left ``users:``."""
    if not _SHAPE.match(secret):
        raise IdentityError(INVALID)
    record = ws.store.token_by_hash(_hash(secret))
    if record is None or record.revoked_at is not None or record.user is None:
        raise IdentityError(INVALID)
    if record.expires_at is not None and record.expires_at <= datetime.now(UTC):
        raise IdentityError(INVALID)
    config = ws.config
    if config.users and record.user not in config.users:
        raise IdentityError(INVALID)
    return actor_for(config, record.user, via="token", os_user=os_user, token_id=record.id)
