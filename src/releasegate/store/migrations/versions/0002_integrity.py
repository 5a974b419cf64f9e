"""Integrity: sign-offs unique by the database, who acted and how, fencing tokens, seals.

* approvals: one live approval per (environment, version, role) — a partial unique index;
  approvals and confirmations keep ``os_user``, ``via``, ``signature`` and ``payload``;
* confirmations: one per (deployment, item);
* deployments: ``os_user``, ``via``; indexes on (environment, id) and (environment,
  status, id), so "the latest deployments of an environment" is an index range scan;
* locks: ``token``, the fencing token (the id of the event that granted the lease).

Duplicates that the old schema let in are resolved first, and said so in the log: the
oldest approval of a role stays, later ones are revoked by "releasegate migration 0002";
a checklist item signed twice keeps its first signature. Then every row policy decides on
is sealed, in ``store.sealed`` events, so that ``audit verify`` can vouch for rows written
before seals existed.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from releasegate.store.chain import envelope, hash_envelope
from releasegate.store.columns import JSONText, UTCDateTime
from releasegate.store.seals import SEALS_KEY, SPECS, seal_canonical, select_sql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEALS_PER_EVENT = 500
_ACTIVE = sa.text("revoked_at IS NULL")
_EVENTS = sa.table(
    "events",
    sa.column("id", sa.BigInteger()),
    sa.column("deployment_id", sa.Integer()),
    sa.column("at", UTCDateTime()),
    sa.column("type", sa.String()),
    sa.column("data", JSONText()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)
_APPROVALS = sa.table(
    "approvals",
    sa.column("id", sa.Integer()),
    sa.column("revoked_at", UTCDateTime()),
    sa.column("revoked_by", sa.String()),
)


def _signer_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("os_user", sa.String(length=256), nullable=True),
        sa.Column("via", sa.String(length=32), nullable=True),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    for table in ("approvals", "confirmations"):
        for column in _signer_columns():
            op.add_column(table, column)
    op.add_column("deployments", sa.Column("os_user", sa.String(length=256), nullable=True))
    op.add_column("deployments", sa.Column("via", sa.String(length=32), nullable=True))
    op.add_column("locks", sa.Column("token", sa.BigInteger(), nullable=False, server_default="0"))
    bind = op.get_bind()
    # a lease held across the upgrade: any later grant has a larger event id than this
    bind.execute(sa.text("UPDATE locks SET token = (SELECT last_id FROM event_chain_head)"))
    now = datetime.now(UTC)
    revoked = _revoke_duplicate_approvals(bind, now)
    deleted = _delete_duplicate_confirmations(bind)

    op.drop_index("ix_deployments_env_status", table_name="deployments")
    op.create_index("ix_deployments_env_id", "deployments", ["environment", "id"])
    op.create_index("ix_deployments_env_status_id", "deployments", ["environment", "status", "id"])
    op.create_index(
        "uq_approvals_live_role",
        "approvals",
        ["environment", "version", "role"],
        unique=True,
        sqlite_where=_ACTIVE,
        postgresql_where=_ACTIVE,
    )
    op.create_index(
        "uq_confirmations_deployment_item", "confirmations", ["deployment_id", "item"], unique=True
    )
    _seal_existing_rows(bind, now, revoked=revoked, deleted=deleted)


def _revoke_duplicate_approvals(bind: sa.Connection, now: datetime) -> list[int]:
    first: dict[tuple[str, str, str], int] = {}
    revoked = []
    rows = bind.execute(
        sa.text(
            "SELECT id, environment, version, role FROM approvals "
            "WHERE revoked_at IS NULL ORDER BY id"
        )
    )
    for id, environment, version, role in rows.all():
        kept = first.setdefault((environment, version, role), id)
        if kept != id:
            bind.execute(
                sa.update(_APPROVALS)
                .where(_APPROVALS.c.id == id)
                .values(
                    revoked_at=now,
                    revoked_by=f"releasegate migration 0002 (duplicate of approval {kept})",
                )
            )
            revoked.append(id)
    return revoked


def _delete_duplicate_confirmations(bind: sa.Connection) -> list[int]:
    seen: set[tuple[int, str]] = set()
    deleted = []
    rows = bind.execute(sa.text("SELECT id, deployment_id, item FROM confirmations ORDER BY id"))
    for id, deployment_id, item in rows.all():
        if (deployment_id, item) in seen:
            bind.execute(sa.text("DELETE FROM confirmations WHERE id = :id"), {"id": id})
            deleted.append(id)
        seen.add((deployment_id, item))
    return deleted


def _seal_existing_rows(
    bind: sa.Connection, now: datetime, *, revoked: list[int], deleted: list[int]
) -> None:
    quote = bind.dialect.identifier_preparer.quote
    inspector = sa.inspect(bind)
    seals = []
    for name, spec in SPECS.items():
        # the columns as of this revision: a later migration that adds one seals again
        present = {column["name"] for column in inspector.get_columns(name)}
        kept = [i for i, column in enumerate(spec.columns) if column in present]
        spec = replace(
            spec,
            columns=tuple(spec.columns[i] for i in kept),
            kinds=tuple(spec.kinds[i] for i in kept),
        )
        for row in bind.execute(sa.text(select_sql(spec, bind.dialect.name, quote))):
            seals.append(seal_canonical(name, tuple(row)))
    if not seals:
        return
    last_id, last_hash = bind.execute(
        sa.text("SELECT last_id, last_hash FROM event_chain_head WHERE id = 1")
    ).one()
    for start in range(0, len(seals), _SEALS_PER_EVENT):
        data: dict[str, Any] = {
            SEALS_KEY: seals[start : start + _SEALS_PER_EVENT],
            "migration": "0002",
            "reason": "rows recorded before releasegate sealed them",
        }
        if start == 0:
            data |= {
                "revoked_duplicate_approvals": revoked,
                "deleted_duplicate_confirmations": deleted,
            }
        text = json.dumps(
            data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        id = last_id + 1
        body = envelope(
            id=id, deployment_id=None, at_iso=now.isoformat(), type_json='"store.sealed"',
            data_text=text,
        )  # fmt: skip
        hash = hash_envelope(last_hash, body)
        bind.execute(
            sa.insert(_EVENTS).values(
                id=id, deployment_id=None, at=now, type="store.sealed", data=text,
                prev_hash=last_hash, hash=hash,
            )
        )  # fmt: skip
        bind.execute(
            sa.text(
                "UPDATE event_chain_head SET last_id = :id, last_hash = :hash, "
                "count = count + 1 WHERE id = 1"
            ),
            {"id": id, "hash": hash},
        )
        last_id, last_hash = id, hash


def downgrade() -> None:
    # the store.sealed events stay: the log is append-only, and they verify as any event
    op.drop_index("uq_confirmations_deployment_item", table_name="confirmations")
    op.drop_index("uq_approvals_live_role", table_name="approvals")
    op.drop_index("ix_deployments_env_status_id", table_name="deployments")
    op.drop_index("ix_deployments_env_id", table_name="deployments")
    op.create_index("ix_deployments_env_status", "deployments", ["environment", "status"])
    op.drop_column("locks", "token")
    op.drop_column("deployments", "via")
    op.drop_column("deployments", "os_user")
    for table in ("confirmations", "approvals"):
        for column in reversed(_signer_columns()):
            op.drop_column(table, column.name)
