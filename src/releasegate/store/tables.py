"""The ORM classes of the store, mapped onto the Core tables of :mod:`releasegate.store.schema`.

Only the writes that go through ORM sessions use them, and they import this module inside
the method: importing it loads and configures SQLAlchemy's ORM, which the read commands
(``history``, ``show``, ``policy explain``) never need. The annotations type the mapped
attributes; the columns, indexes and constraints are the tables'.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import DeclarativeBase, Mapped

from releasegate.store import schema
from releasegate.store.records import JsonDict
from releasegate.store.schema import GENESIS_HASH

__all__ = ["GENESIS_HASH", "Base"]


class Base(DeclarativeBase):
    """Base of every mapped class; its metadata is the schema's."""

    metadata = schema.metadata


class ReleaseRow(Base):
    __table__ = schema.releases

    id: Mapped[int]
    environment: Mapped[str]
    version: Mapped[str]
    commit: Mapped[str | None]
    created_at: Mapped[datetime]


class DeploymentRow(Base):
    __table__ = schema.deployments

    id: Mapped[int]
    environment: Mapped[str]
    version: Mapped[str]
    kind: Mapped[str]
    status: Mapped[str]
    user: Mapped[str]
    reason: Mapped[str | None]
    emergency: Mapped[bool]
    commit: Mapped[str | None]
    rollback_of: Mapped[int | None]
    plan: Mapped[JsonDict]
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    detail: Mapped[str | None]
    os_user: Mapped[str | None]
    via: Mapped[str | None]
    project: Mapped[str | None]
    duration_s: Mapped[float | None]
    """Seconds from start to finish, written when the run finishes (for the metrics)."""


class StepRunRow(Base):
    __table__ = schema.step_runs

    id: Mapped[int]
    deployment_id: Mapped[int]
    step_id: Mapped[str]
    phase: Mapped[str]
    attempt: Mapped[int]
    status: Mapped[str]
    summary: Mapped[str]
    output: Mapped[str]
    evidence: Mapped[JsonDict]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class EventRow(Base):
    __table__ = schema.events

    id: Mapped[int]
    deployment_id: Mapped[int | None]
    at: Mapped[datetime]
    type: Mapped[str]
    data: Mapped[JsonDict]
    prev_hash: Mapped[str]
    hash: Mapped[str]


class EventChainHeadRow(Base):
    """A single row (id 1): the last event appended, so a deleted tail is detectable."""

    __table__ = schema.event_chain_head

    id: Mapped[int]
    last_id: Mapped[int]
    last_hash: Mapped[str]
    count: Mapped[int]


class LockRow(Base):
    __table__ = schema.locks

    environment: Mapped[str]
    deployment_id: Mapped[int]
    holder: Mapped[str]
    acquired_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    token: Mapped[int]


class ApprovalRow(Base):
    __table__ = schema.approvals

    id: Mapped[int]
    environment: Mapped[str]
    version: Mapped[str]
    role: Mapped[str]
    user: Mapped[str]
    note: Mapped[str | None]
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None]
    os_user: Mapped[str | None]
    via: Mapped[str | None]
    signature: Mapped[str | None]
    payload: Mapped[str | None]


class ConfirmationRow(Base):
    __table__ = schema.confirmations

    id: Mapped[int]
    deployment_id: Mapped[int]
    item: Mapped[str]
    user: Mapped[str]
    note: Mapped[str | None]
    created_at: Mapped[datetime]
    os_user: Mapped[str | None]
    via: Mapped[str | None]
    signature: Mapped[str | None]
    payload: Mapped[str | None]


class IncidentRow(Base):
    __table__ = schema.incidents

    id: Mapped[int]
    title: Mapped[str]
    severity: Mapped[str]
    impact: Mapped[float]
    environment: Mapped[str | None]
    action: Mapped[str]
    deadline: Mapped[datetime | None]
    opened_by: Mapped[str]
    opened_at: Mapped[datetime]
    closed_by: Mapped[str | None]
    closed_at: Mapped[datetime | None]
    close_note: Mapped[str | None]
    project: Mapped[str | None]


class FreezeRow(Base):
    __table__ = schema.freezes

    id: Mapped[int]
    environment: Mapped[str | None]
    start: Mapped[datetime]
    end: Mapped[datetime]
    reason: Mapped[str]
    hard: Mapped[bool]
    created_by: Mapped[str]
    created_at: Mapped[datetime]
    removed_by: Mapped[str | None]
    removed_at: Mapped[datetime | None]


class CampaignRow(Base):
    __table__ = schema.campaigns

    id: Mapped[int]
    name: Mapped[str]
    at: Mapped[datetime]
    buffer_s: Mapped[float]
    environment: Mapped[str | None]
    created_by: Mapped[str]
    created_at: Mapped[datetime]


class ObligationRow(Base):
    __table__ = schema.obligations

    id: Mapped[int]
    deployment_id: Mapped[int]
    kind: Mapped[str]
    text: Mapped[str]
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None]
    close_note: Mapped[str | None]


class BackupRow(Base):
    __table__ = schema.backups

    id: Mapped[int]
    deployment_id: Mapped[int | None]
    location: Mapped[str]
    checksum: Mapped[str]
    size: Mapped[int]
    duration_s: Mapped[float]
    kind: Mapped[str]
    source: Mapped[str]
    created_at: Mapped[datetime]


class VerificationSampleRow(Base):
    __table__ = schema.verification_samples

    id: Mapped[int]
    deployment_id: Mapped[int]
    stage: Mapped[str]
    at: Mapped[datetime]
    values: Mapped[dict[str, float]]


class ApiTokenRow(Base):
    """Tokens for the REST API (used from the web issue on); only the hash is stored."""

    __table__ = schema.api_tokens

    id: Mapped[int]
    name: Mapped[str]
    token_hash: Mapped[str]
    role: Mapped[str]
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    user: Mapped[str | None]
    expires_at: Mapped[datetime | None]


class QueuedDeploymentRow(Base):
    """A deployment asked for with ``--queue`` (migration 0005; see ``schema.queued_deployments``)."""

    __table__ = schema.queued_deployments

    id: Mapped[int]
    project: Mapped[str]
    environment: Mapped[str]
    version: Mapped[str]
    kind: Mapped[str]
    action: Mapped[str]
    options: Mapped[JsonDict]
    user: Mapped[str]
    via: Mapped[str | None]
    os_user: Mapped[str | None]
    repository: Mapped[str]
    commit: Mapped[str]
    config_path: Mapped[str]
    config_text: Mapped[str]
    queue: Mapped[str]
    job_id: Mapped[int | None]
    status: Mapped[str]
    waiting: Mapped[str | None]
    not_after: Mapped[datetime | None]
    deployment_id: Mapped[int | None]
    worker: Mapped[str | None]
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    detail: Mapped[str | None]
