"""The SQLAlchemy tables of the store (typed declarative models).

The schema itself is created by the Alembic migrations in ``migrations/versions``; a test
checks that these models and the migrated database agree.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from releasegate.store.columns import UTCDateTime
from releasegate.store.records import JsonDict

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first event."""
_ACTIVE = text("revoked_at IS NULL")


class Base(DeclarativeBase):
    """Base of every table."""


class ReleaseRow(Base):
    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("environment", "version", name="uq_releases_env_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment: Mapped[str] = mapped_column(String(128))
    version: Mapped[str] = mapped_column(String(256))
    commit: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeploymentRow(Base):
    __tablename__ = "deployments"
    # "the latest deployments of an environment" (of a status) are index range scans
    __table_args__ = (
        Index("ix_deployments_env_id", "environment", "id"),
        Index("ix_deployments_env_status_id", "environment", "status", "id"),
        # metrics read a project's runs that finished in a period (migration 0003)
        Index(
            "ix_deployments_metrics",
            "project", "finished_at", "environment", "kind", "status", "started_at",
        ),
        Index("ix_deployments_rollback_of", "rollback_of", "kind", "status"),
        # percentiles of the duration walk this index in order (migration 0006)
        Index(
            "ix_deployments_duration",
            "duration_s", "finished_at", "kind", "status", "environment", "project",
        ),
        # the runs of a period counted per status and kind in index order (migration 0006)
        Index("ix_deployments_outcome", "status", "kind", "finished_at", "environment", "project"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment: Mapped[str] = mapped_column(String(128))
    version: Mapped[str] = mapped_column(String(256))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    user: Mapped[str] = mapped_column(String(256))
    reason: Mapped[str | None] = mapped_column(Text)
    emergency: Mapped[bool] = mapped_column(Boolean)
    commit: Mapped[str | None] = mapped_column(String(64))
    rollback_of: Mapped[int | None] = mapped_column(ForeignKey("deployments.id"))
    plan: Mapped[JsonDict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    detail: Mapped[str | None] = mapped_column(Text)
    os_user: Mapped[str | None] = mapped_column(String(256))
    via: Mapped[str | None] = mapped_column(String(32))
    project: Mapped[str | None] = mapped_column(String(128))
    duration_s: Mapped[float | None] = mapped_column(Float)
    """Seconds from start to finish, written when the run finishes (for the metrics)."""


class StepRunRow(Base):
    __tablename__ = "step_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"), index=True)
    step_id: Mapped[str] = mapped_column(String(128))
    phase: Mapped[str] = mapped_column(String(32))
    attempt: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text)
    output: Mapped[str] = mapped_column(Text)
    evidence: Mapped[JsonDict] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EventRow(Base):
    __tablename__ = "events"

    # ids are given by the appender (head.last_id + 1), never by a sequence: the id is
    # part of the hash, and appends are serialised anyway.
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployments.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    type: Mapped[str] = mapped_column(String(64))
    data: Mapped[JsonDict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class EventChainHeadRow(Base):
    """A single row (id 1): the last event appended, so a deleted tail is detectable."""

    __tablename__ = "event_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(BigInteger)


class LockRow(Base):
    __tablename__ = "locks"

    environment: Mapped[str] = mapped_column(String(128), primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    holder: Mapped[str] = mapped_column(String(256))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # the fencing token: the id of the event that granted this lease (event ids only grow)
    token: Mapped[int] = mapped_column(BigInteger)


class ApprovalRow(Base):
    __tablename__ = "approvals"
    __table_args__ = (
        Index("ix_approvals_env_version", "environment", "version"),
        # approve once: one live approval per role, whatever races the database sees
        Index(
            "uq_approvals_live_role",
            "environment",
            "version",
            "role",
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment: Mapped[str] = mapped_column(String(128))
    version: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(128))
    user: Mapped[str] = mapped_column(String(256))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(256))
    os_user: Mapped[str | None] = mapped_column(String(256))
    via: Mapped[str | None] = mapped_column(String(32))
    signature: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[str | None] = mapped_column(Text)


class ConfirmationRow(Base):
    __tablename__ = "confirmations"
    __table_args__ = (
        Index("uq_confirmations_deployment_item", "deployment_id", "item", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"), index=True)
    item: Mapped[str] = mapped_column(String(256))
    user: Mapped[str] = mapped_column(String(256))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    os_user: Mapped[str | None] = mapped_column(String(256))
    via: Mapped[str | None] = mapped_column(String(32))
    signature: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[str | None] = mapped_column(Text)


class IncidentRow(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(32))
    impact: Mapped[float] = mapped_column(Float)
    environment: Mapped[str | None] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opened_by: Mapped[str] = mapped_column(String(256))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(256))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_note: Mapped[str | None] = mapped_column(Text)
    project: Mapped[str | None] = mapped_column(String(128))


class FreezeRow(Base):
    __tablename__ = "freezes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment: Mapped[str | None] = mapped_column(String(128))
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    hard: Mapped[bool] = mapped_column(Boolean)
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    removed_by: Mapped[str | None] = mapped_column(String(256))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CampaignRow(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    buffer_s: Mapped[float] = mapped_column(Float)
    environment: Mapped[str | None] = mapped_column(String(128))
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ObligationRow(Base):
    __tablename__ = "obligations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(256))
    close_note: Mapped[str | None] = mapped_column(Text)


class BackupRow(Base):
    __tablename__ = "backups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployments.id"), index=True)
    location: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)
    duration_s: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class VerificationSampleRow(Base):
    __tablename__ = "verification_samples"
    __table_args__ = (Index("ix_samples_deployment_stage", "deployment_id", "stage"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    stage: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    values: Mapped[dict[str, float]] = mapped_column(JSON)


class ApiTokenRow(Base):
    """Tokens for the REST API (used from the web issue on); only the hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # migration 0004: the user a token acts as (roles come from the config) and its expiry
    user: Mapped[str | None] = mapped_column(String(256))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class QueuedDeploymentRow(Base):
    """A deployment asked for with ``--queue`` (migration 0005): what a worker needs to run
    it — the config as it was validated, the repository and commit it came from — and where
    it stands. The deployment it becomes is an ordinary ``deployments`` row (``deployment_id``);
    secrets are never here, the worker resolves them."""

    __tablename__ = "queued_deployments"
    __table_args__ = (
        Index("ix_queued_status_id", "status", "id"),
        Index("ix_queued_env_id", "environment", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project: Mapped[str] = mapped_column(String(128))
    environment: Mapped[str] = mapped_column(String(128))
    version: Mapped[str] = mapped_column(String(256))
    kind: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))
    options: Mapped[JsonDict] = mapped_column(JSON)
    user: Mapped[str] = mapped_column(String(256))
    via: Mapped[str | None] = mapped_column(String(32))
    os_user: Mapped[str | None] = mapped_column(String(256))
    repository: Mapped[str] = mapped_column(Text)
    commit: Mapped[str] = mapped_column(String(64))
    config_path: Mapped[str] = mapped_column(Text)
    config_text: Mapped[str] = mapped_column(Text)
    queue: Mapped[str] = mapped_column(String(64))
    job_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(32))
    waiting: Mapped[str | None] = mapped_column(Text)
    not_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployments.id"))
    worker: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    detail: Mapped[str | None] = mapped_column(Text)
