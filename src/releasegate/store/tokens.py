"""API tokens: only a hash of each is stored; the token itself is shown once, when made.

Creating and revoking a token are recorded as events (its name, user and expiry, never
the token or its hash).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from releasegate.errors import ConflictError, StoreError
from releasegate.store import schema
from releasegate.store.base import StoreBase, to_record

_API_TOKENS = schema.api_tokens

_TOKENS = schema.api_tokens
_TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class TokenRecord:
    """An API token as stored: who it acts as, when it was made, used, revoked, expires."""

    id: int
    name: str
    user: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime | None


_BY_HASH = select(
    *(_TOKENS.c[f.name] for f in fields(TokenRecord))
).where(_TOKENS.c.token_hash == bindparam("hash"))


class _Taken(Exception):
    """The name is in use (the unique constraint said so)."""


class Tokens(StoreBase):
    """API tokens, looked up by the hash of the presented token."""

    def add_token(
        self, *, name: str, user: str, token_hash: str, expires_at: datetime | None, by: str
    ) -> TokenRecord:
        """Record a token for ``user``. Raises :class:`ConflictError` if ``name`` is taken
        (a revoked token keeps its name: the record says which token did what)."""
        values: dict[str, Any] = {
            "name": name, "user": user, "token_hash": token_hash, "role": "",
            "created_at": self._now(), "last_used_at": None, "revoked_at": None,
            "expires_at": expires_at,
        }  # fmt: skip
        try:
            with self._write_conn() as conn:
                try:
                    token_id: int = conn.execute(
                        insert(_TOKENS).returning(_TOKENS.c.id), values
                    ).scalar_one()
                except IntegrityError as exc:
                    raise _Taken from exc
                values["id"] = token_id
                self._append_conn(conn, "token.created", {
                    "token_id": token_id, "name": name, "user": user, "by": by,
                    "expires_at": None if expires_at is None else expires_at.isoformat(),
                })  # fmt: skip
        except _Taken:
            raise ConflictError(f"a token named {name!r} exists already") from None
        return to_record(TokenRecord, values)

    def list_tokens(self) -> list[TokenRecord]:
        """Every token, oldest first, revoked ones too."""
        with self._read_conn() as conn:
            rows = conn.execute(select(_API_TOKENS).order_by(_API_TOKENS.c.id))
            return [to_record(TokenRecord, row) for row in rows]

    def revoke_token(self, name: str, *, by: str) -> TokenRecord:
        """Revoke the token named ``name``; StoreError if there is none or it is revoked."""
        from releasegate.store.tables import ApiTokenRow

        with self._write() as session:
            row = session.scalars(
                select(ApiTokenRow).where(ApiTokenRow.name == name).with_for_update()
            ).first()
            if row is None:
                raise StoreError(f"there is no token named {name!r}")
            if row.revoked_at is not None:
                raise StoreError(f"the token {name!r} was revoked already")
            row.revoked_at = self._now()
            session.flush()
            self._append(session, "token.revoked", {"token_id": row.id, "name": name, "by": by})
            return to_record(TokenRecord, row)

    def token_by_hash(self, token_hash: str) -> TokenRecord | None:
        """The token whose hash is ``token_hash`` (revoked or expired ones too: the caller
        decides). Its ``last_used_at`` is brought up to date at most once a minute, so
        that reading the API does not queue every request behind a write."""
        with self._read_conn() as conn:
            row = conn.execute(_BY_HASH, {"hash": token_hash}).first()
            if row is None:
                return None
            found = TokenRecord(*row)
        now = self._now()
        if found.last_used_at is None or now - found.last_used_at > _TOUCH_EVERY:
            with self._write_conn() as conn:
                conn.execute(
                    update(_TOKENS).where(_TOKENS.c.id == found.id).values(last_used_at=now)
                )
            found = replace(found, last_used_at=now)
        return found
