"""Records that count: release facts, their changes, defects, failure links, outages,
notification deliveries; a project on deployments and incidents; indexes for metrics.

Only new tables and new (nullable) columns, so it applies after any other migration that
does the same.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(name: str, table: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.Integer(), sa.ForeignKey(f"{table}.id"), nullable=nullable)


def upgrade() -> None:
    # plain ALTER TABLE ADD COLUMN on both backends: no table is rebuilt
    op.add_column("deployments", sa.Column("project", sa.String(128), nullable=True))
    op.add_column("incidents", sa.Column("project", sa.String(128), nullable=True))
    # every metric reads a project's runs that finished in a period, of one environment or
    # all: the environment after the time keeps the range usable when it is not given, and
    # kind, status and started_at make it covering (the rows themselves hold the plan JSON)
    op.create_index(
        "ix_deployments_metrics", "deployments",
        ["project", "finished_at", "environment", "kind", "status", "started_at"],
    )
    # covering: the set of deployments a successful rollback run undid is an index range
    op.create_index(
        "ix_deployments_rollback_of", "deployments", ["rollback_of", "kind", "status"]
    )
    op.create_table(
        "release_facts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project", sa.String(128), nullable=False),
        sa.Column("environment", sa.String(128), nullable=False),
        sa.Column("version", sa.String(256), nullable=False),
        sa.Column("commit", sa.String(64), nullable=True),
        sa.Column("previous_commit", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("changelog", sa.Text(), nullable=True),
        sa.Column("live_at", sa.DateTime(timezone=True), nullable=True),
        _ts("recorded_at"),
        sa.UniqueConstraint("project", "environment", "version", name="uq_release_facts"),
    )
    op.create_index(
        "ix_release_facts_live", "release_facts", ["project", "environment", "live_at"]
    )
    op.create_table(
        "release_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("release_id", "release_facts"),
        sa.Column("sha", sa.String(64), nullable=False),
        _ts("first_commit_at"),
        _ts("merged_at"),
        sa.Column("subject", sa.Text(), nullable=False),
    )
    op.create_index("ix_release_changes_release", "release_changes", ["release_id"])
    op.create_table(
        "defects",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("deployment_id", "deployments"),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("user", sa.String(256), nullable=False),
        _ts("created_at"),
        sa.CheckConstraint(
            "kind IN ('bug', 'security', 'performance', 'complaint')", name="ck_defects_kind"
        ),
    )
    op.create_index("ix_defects_deployment", "defects", ["deployment_id"])
    op.create_table(
        "failure_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("deployment_id", "deployments"),
        sa.Column("cause", sa.String(32), nullable=False),
        _fk("incident_id", "incidents", nullable=True),
        _fk("fixed_by", "deployments", nullable=True),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("user", sa.String(256), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        _ts("created_at"),
        sa.CheckConstraint(
            "cause IN ('incident', 'hotfix', 'verification')", name="ck_failure_links_cause"
        ),
        sa.UniqueConstraint("deployment_id", "cause", "ref_id", name="uq_failure_links"),
    )
    op.create_index("ix_failure_links_deployment", "failure_links", ["deployment_id"])
    op.create_table(
        "outages",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("deployment_id", "deployments"),
        _ts("started_at"),
        _ts("ended_at"),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("ended_at >= started_at", name="ck_outages_order"),
    )
    op.create_index("ix_outages_deployment", "outages", ["deployment_id"])
    op.create_table(
        "notification_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("deployment_id", "deployments", nullable=True),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("destination", sa.String(256), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _ts("created_at"),
    )
    op.create_index("ix_notification_log_deployment", "notification_log", ["deployment_id"])


def downgrade() -> None:
    for table in ("notification_log", "outages", "failure_links", "defects", "release_changes", "release_facts"):
        op.drop_table(table)
    op.drop_index("ix_deployments_rollback_of", table_name="deployments")
    op.drop_index("ix_deployments_metrics", table_name="deployments")
    # SQLite >= 3.35 drops a column in place: the tables other tables refer to stay put
    op.drop_column("incidents", "project")
    op.drop_column("deployments", "project")
