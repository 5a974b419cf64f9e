"""The bytes a person signs for a sign-off (``identity.mode: ssh``).

Sorted-key, compact JSON, so that the same sign-off always gives the same bytes and
``audit verify`` can rebuild them from the record::

    {"at":"2026-11-30T10:00:00Z","chain_head":"9f2c…","deployment_id":7,
     "environment":"production","namespace":"releasegate","project":"shop",
     "role":"qa","user":"alice","v":1,"version":"1.2.0"}

The chain head the signer saw binds the signature to one point of the event log: it
cannot be replayed onto another history.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pydantic import JsonValue

NAMESPACE = "releasegate"
"""The ``ssh-keygen -Y`` namespace and the payload's ``namespace``: a signature made for
git (``-n git``) or anything else never verifies as a sign-off."""

VERSION = 1


def canonical_payload(
    *,
    project: str,
    environment: str,
    version: str,
    user: str,
    at: datetime,
    chain_head: str,
    role: str | None = None,
    item: str | None = None,
    deployment_id: int | None = None,
) -> bytes:
    """The payload of an approval (``role``) or a confirmation (``item``; exactly one).

    ``at`` must carry a time zone; it is written in UTC to the second, so a time read back
    from the store with more or less precision gives the same bytes.
    """
    if (role is None) == (item is None):
        raise ValueError(
            "a sign-off payload has exactly one of role (approval) or item (confirmation)"
        )
    fields: dict[str, JsonValue] = {
        "namespace": NAMESPACE,
        "v": VERSION,
        "project": project,
        "environment": environment,
        "version": version,
        "user": user,
        "at": utc_text(at),
        "chain_head": chain_head,
    }
    if role is not None:
        fields["role"] = role
    if item is not None:
        fields["item"] = item
    if deployment_id is not None:
        fields["deployment_id"] = deployment_id
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def payload_fields(payload: bytes) -> dict[str, JsonValue]:
    """The fields of a payload made by :func:`canonical_payload` (for ``audit verify`` to
    compare with the record); ValueError if it is not one."""
    try:
        fields = json.loads(payload.decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a sign-off payload: {exc}") from None
    if not isinstance(fields, dict) or fields.get("namespace") != NAMESPACE:
        raise ValueError(f"not a sign-off payload: its namespace is not {NAMESPACE!r}")
    if fields.get("v") != VERSION:
        raise ValueError(f"sign-off payload version {fields.get('v')!r} is not {VERSION}")
    return fields


def utc_text(at: datetime) -> str:
    """``2026-11-30T10:00:00Z``: ISO 8601 in UTC, to the second."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()} has no time zone: a signed time must be absolute")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
