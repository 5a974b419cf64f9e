"""Metrics read stored figures instead of recomputing them per query: a deployment's
``duration_s`` (written when it finishes) and a change's ``live_at`` and ``lead_s``
(written when its release goes live), each in an index whose first column is the figure,
so a percentile over a million rows is a walk along an index, not a sort.

Existing rows are backfilled here; the seconds are computed by the database (julianday on
SQLite, EXTRACT(EPOCH) on PostgreSQL), as the metrics' own SQL used to compute them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _seconds(later: str, earlier: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))::float8"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def upgrade() -> None:
    op.add_column("deployments", sa.Column("duration_s", sa.Float(), nullable=True))
    op.add_column("release_changes", sa.Column("live_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("release_changes", sa.Column("lead_s", sa.Float(), nullable=True))
    op.execute(
        f"UPDATE deployments SET duration_s = {_seconds('finished_at', 'started_at')} "
        "WHERE finished_at IS NOT NULL AND started_at IS NOT NULL"
    )
    # a change dated after its release went live (clock skew) keeps a NULL lead_s: it is
    # left out of the lead time and counted as such
    op.execute(
        "UPDATE release_changes SET live_at = (SELECT f.live_at FROM release_facts f "
        "WHERE f.id = release_changes.release_id)"
    )
    op.execute(
        f"UPDATE release_changes SET lead_s = {_seconds('live_at', 'first_commit_at')} "
        "WHERE live_at IS NOT NULL AND first_commit_at <= live_at"
    )
    # ordered by the figure, covering what the scope filters on: the p-th percentile of
    # everything is the row at rank k along the index
    op.create_index(
        "ix_deployments_duration", "deployments",
        ["duration_s", "finished_at", "kind", "status", "environment", "project"],
    )
    # the runs of a period counted per status and kind in index order, without a sort
    op.create_index(
        "ix_deployments_outcome", "deployments",
        ["status", "kind", "finished_at", "environment", "project"],
    )
    op.create_index("ix_release_changes_lead", "release_changes", ["lead_s", "live_at", "release_id"])


def downgrade() -> None:
    op.drop_index("ix_release_changes_lead", table_name="release_changes")
    op.drop_index("ix_deployments_outcome", table_name="deployments")
    op.drop_index("ix_deployments_duration", table_name="deployments")
    op.drop_column("release_changes", "lead_s")
    op.drop_column("release_changes", "live_at")
    op.drop_column("deployments", "duration_s")
