"""Queued deployments (team mode): what a worker needs to run a deployment asked for with
``--queue``, and where it stands. The job library's own tables (procrastinate) are not
ours: the queue applies its schema when it is first used.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "queued_deployments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project", sa.String(128), nullable=False),
        sa.Column("environment", sa.String(128), nullable=False),
        sa.Column("version", sa.String(256), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("user", sa.String(256), nullable=False),
        sa.Column("via", sa.String(32), nullable=True),
        sa.Column("os_user", sa.String(256), nullable=True),
        sa.Column("repository", sa.Text(), nullable=False),
        sa.Column("commit", sa.String(64), nullable=False),
        sa.Column("config_path", sa.Text(), nullable=False),
        sa.Column("config_text", sa.Text(), nullable=False),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("waiting", sa.Text(), nullable=True),
        _at("not_after"),
        sa.Column("deployment_id", sa.Integer(), sa.ForeignKey("deployments.id"), nullable=True),
        sa.Column("worker", sa.String(256), nullable=True),
        _at("created_at", nullable=False),
        _at("started_at"),
        _at("finished_at"),
        sa.Column("detail", sa.Text(), nullable=True),
    )
    op.create_index("ix_queued_status_id", "queued_deployments", ["status", "id"])
    op.create_index("ix_queued_env_id", "queued_deployments", ["environment", "id"])


def downgrade() -> None:
    op.drop_index("ix_queued_env_id", "queued_deployments")
    op.drop_index("ix_queued_status_id", "queued_deployments")
    op.drop_table("queued_deployments")
