"""The initial schema: every table of the store, and the genesis chain head.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _str(name: str, length: int, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _text(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _id() -> sa.Column[object]:
    return sa.Column("id", sa.Integer(), primary_key=True)


def _deployment_fk(*, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(
        "deployment_id", sa.Integer(), sa.ForeignKey("deployments.id"), nullable=nullable
    )


def upgrade() -> None:
    op.create_table(
        "releases",
        _id(),
        _str("environment", 128),
        _str("version", 256),
        _str("commit", 64, nullable=True),
        _ts("created_at"),
        sa.UniqueConstraint("environment", "version", name="uq_releases_env_version"),
    )
    op.create_table(
        "deployments",
        _id(),
        _str("environment", 128),
        _str("version", 256),
        _str("kind", 32),
        _str("status", 32),
        _str("user", 256),
        _text("reason", nullable=True),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        _str("commit", 64, nullable=True),
        sa.Column("rollback_of", sa.Integer(), sa.ForeignKey("deployments.id"), nullable=True),
        sa.Column("plan", sa.JSON(), nullable=False),
        _ts("created_at"),
        _ts("started_at", nullable=True),
        _ts("finished_at", nullable=True),
        _text("detail", nullable=True),
    )
    op.create_index("ix_deployments_env_status", "deployments", ["environment", "status"])
    op.create_table(
        "step_runs",
        _id(),
        _deployment_fk(),
        _str("step_id", 128),
        _str("phase", 32),
        sa.Column("attempt", sa.Integer(), nullable=False),
        _str("status", 32),
        _text("summary"),
        _text("output"),
        sa.Column("evidence", sa.JSON(), nullable=False),
        _ts("started_at"),
        _ts("finished_at", nullable=True),
    )
    op.create_index("ix_step_runs_deployment_id", "step_runs", ["deployment_id"])
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),
        _deployment_fk(nullable=True),
        _ts("at"),
        _str("type", 64),
        sa.Column("data", sa.JSON(), nullable=False),
        _str("prev_hash", 64),
        _str("hash", 64),
    )
    op.create_index("ix_events_deployment_id", "events", ["deployment_id"])
    head = op.create_table(
        "event_chain_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        _str("last_hash", 64),
        sa.Column("count", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "last_id": 0, "last_hash": GENESIS_HASH, "count": 0}])
    op.create_table(
        "locks",
        _str("environment", 128),
        _deployment_fk(),
        _str("holder", 256),
        _ts("acquired_at"),
        _ts("heartbeat_at"),
        _ts("expires_at"),
        sa.PrimaryKeyConstraint("environment"),
    )
    op.create_table(
        "approvals",
        _id(),
        _str("environment", 128),
        _str("version", 256),
        _str("role", 128),
        _str("user", 256),
        _text("note", nullable=True),
        _ts("created_at"),
        _ts("revoked_at", nullable=True),
        _str("revoked_by", 256, nullable=True),
    )
    op.create_index("ix_approvals_env_version", "approvals", ["environment", "version"])
    op.create_table(
        "confirmations",
        _id(),
        _deployment_fk(),
        _str("item", 256),
        _str("user", 256),
        _text("note", nullable=True),
        _ts("created_at"),
    )
    op.create_index("ix_confirmations_deployment_id", "confirmations", ["deployment_id"])
    op.create_table(
        "incidents",
        _id(),
        _text("title"),
        _str("severity", 32),
        sa.Column("impact", sa.Float(), nullable=False),
        _str("environment", 128, nullable=True),
        _str("action", 64),
        _ts("deadline", nullable=True),
        _str("opened_by", 256),
        _ts("opened_at"),
        _str("closed_by", 256, nullable=True),
        _ts("closed_at", nullable=True),
        _text("close_note", nullable=True),
    )
    op.create_table(
        "freezes",
        _id(),
        _str("environment", 128, nullable=True),
        _ts("start"),
        _ts("end"),
        _text("reason"),
        sa.Column("hard", sa.Boolean(), nullable=False),
        _str("created_by", 256),
        _ts("created_at"),
        _str("removed_by", 256, nullable=True),
        _ts("removed_at", nullable=True),
    )
    op.create_table(
        "campaigns",
        _id(),
        _str("name", 256),
        _ts("at"),
        sa.Column("buffer_s", sa.Float(), nullable=False),
        _str("environment", 128, nullable=True),
        _str("created_by", 256),
        _ts("created_at"),
    )
    op.create_table(
        "obligations",
        _id(),
        _deployment_fk(),
        _str("kind", 32),
        _text("text"),
        _ts("due_at"),
        _ts("created_at"),
        _ts("closed_at", nullable=True),
        _str("closed_by", 256, nullable=True),
        _text("close_note", nullable=True),
    )
    op.create_index("ix_obligations_deployment_id", "obligations", ["deployment_id"])
    op.create_table(
        "backups",
        _id(),
        _deployment_fk(nullable=True),
        _text("location"),
        _str("checksum", 128),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        _str("kind", 64),
        _str("source", 256),
        _ts("created_at"),
    )
    op.create_index("ix_backups_deployment_id", "backups", ["deployment_id"])
    op.create_table(
        "verification_samples",
        _id(),
        _deployment_fk(),
        _str("stage", 64),
        _ts("at"),
        sa.Column("values", sa.JSON(), nullable=False),
    )
    op.create_index(
        "ix_samples_deployment_stage", "verification_samples", ["deployment_id", "stage"]
    )
    op.create_table(
        "api_tokens",
        _id(),
        _str("name", 128),
        _str("token_hash", 128),
        _str("role", 32),
        _ts("created_at"),
        _ts("last_used_at", nullable=True),
        _ts("revoked_at", nullable=True),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("token_hash"),
    )


_TABLES_CHILDREN_FIRST = (
    "api_tokens",
    "verification_samples",
    "backups",
    "obligations",
    "campaigns",
    "freezes",
    "incidents",
    "confirmations",
    "approvals",
    "locks",
    "event_chain_head",
    "events",
    "step_runs",
    "deployments",
    "releases",
)


def downgrade() -> None:
    # dropping a table drops its indexes too, on both SQLite and PostgreSQL
    for table in _TABLES_CHILDREN_FIRST:
        op.drop_table(table)
