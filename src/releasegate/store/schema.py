"""The store's tables as SQLAlchemy Core ``Table`` objects: no ORM is loaded to read them.

Every read, and the engine's hot path, runs Core statements on these tables; the few
writes that go through ORM sessions use the classes in :mod:`releasegate.store.tables`,
which are mapped onto these same tables and imported only by the methods that need them
(loading and configuring the ORM costs about as much CPU as a whole ``history`` command
needs otherwise). The schema itself is created by the Alembic migrations in
``migrations/versions``; a test checks that this metadata and the migrated database agree.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from releasegate.store.columns import UTCDateTime

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first event."""
_ACTIVE = text("revoked_at IS NULL")

metadata = MetaData()
"""Every table of the store (``facts_records`` adds the metrics' tables to it)."""

releases = Table(
    "releases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("environment", String(128), nullable=False),
    Column("version", String(256), nullable=False),
    Column("commit", String(64)),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("environment", "version", name="uq_releases_env_version"),
)

deployments = Table(
    "deployments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("environment", String(128), nullable=False),
    Column("version", String(256), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("user", String(256), nullable=False),
    Column("reason", Text),
    Column("emergency", Boolean, nullable=False),
    Column("commit", String(64)),
    Column("rollback_of", ForeignKey("deployments.id")),
    Column("plan", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime()),
    Column("finished_at", UTCDateTime()),
    Column("detail", Text),
    Column("os_user", String(256)),
    Column("via", String(32)),
    Column("project", String(128)),
    # seconds from start to finish, written when the run finishes (migration 0006)
    Column("duration_s", Float),
    # "the latest deployments of an environment" (of a status) are index range scans
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

step_runs = Table(
    "step_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("deployment_id", ForeignKey("deployments.id"), index=True, nullable=False),
    Column("step_id", String(128), nullable=False),
    Column("phase", String(32), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status", String(32), nullable=False),
    Column("summary", Text, nullable=False),
    Column("output", Text, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
)

events = Table(
    "events",
    metadata,
    # ids are given by the appender (head.last_id + 1), never by a sequence: the id is
    # part of the hash, and appends are serialised anyway.
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("deployment_id", ForeignKey("deployments.id"), index=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("type", String(64), nullable=False),
    Column("data", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# A single row (id 1): the last event appended, so a deleted tail is detectable.
event_chain_head = Table(
    "event_chain_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_id", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("count", BigInteger, nullable=False),
)

locks = Table(
    "locks",
    metadata,
    Column("environment", String(128), primary_key=True),
    Column("deployment_id", ForeignKey("deployments.id"), nullable=False),
    Column("holder", String(256), nullable=False),
    Column("acquired_at", UTCDateTime(), nullable=False),
    Column("heartbeat_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    # the fencing token: the id of the event that granted this lease (event ids only grow)
    Column("token", BigInteger, nullable=False),
)

approvals = Table(
    "approvals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("environment", String(128), nullable=False),
    Column("version", String(256), nullable=False),
    Column("role", String(128), nullable=False),
    Column("user", String(256), nullable=False),
    Column("note", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
    Column("revoked_by", String(256)),
    Column("os_user", String(256)),
    Column("via", String(32)),
    Column("signature", Text),
    Column("payload", Text),
    Index("ix_approvals_env_version", "environment", "version"),
    # approve once: one live approval per role, whatever races the database sees
    Index(
        "uq_approvals_live_role",
        "environment",
        "version",
        "role",
        unique=True,
        sqlite_where=_ACTIVE,  # postgresql_where: see postgresql_options()
    ),
)

confirmations = Table(
    "confirmations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("deployment_id", ForeignKey("deployments.id"), index=True, nullable=False),
    Column("item", String(256), nullable=False),
    Column("user", String(256), nullable=False),
    Column("note", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("os_user", String(256)),
    Column("via", String(32)),
    Column("signature", Text),
    Column("payload", Text),
    Index("uq_confirmations_deployment_item", "deployment_id", "item", unique=True),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", Text, nullable=False),
    Column("severity", String(32), nullable=False),
    Column("impact", Float, nullable=False),
    Column("environment", String(128)),
    Column("action", String(64), nullable=False),
    Column("deadline", UTCDateTime()),
    Column("opened_by", String(256), nullable=False),
    Column("opened_at", UTCDateTime(), nullable=False),
    Column("closed_by", String(256)),
    Column("closed_at", UTCDateTime()),
    Column("close_note", Text),
    Column("project", String(128)),
)

freezes = Table(
    "freezes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("environment", String(128)),
    Column("start", UTCDateTime(), nullable=False),
    Column("end", UTCDateTime(), nullable=False),
    Column("reason", Text, nullable=False),
    Column("hard", Boolean, nullable=False),
    Column("created_by", String(256), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("removed_by", String(256)),
    Column("removed_at", UTCDateTime()),
)

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(256), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("buffer_s", Float, nullable=False),
    Column("environment", String(128)),
    Column("created_by", String(256), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

obligations = Table(
    "obligations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("deployment_id", ForeignKey("deployments.id"), index=True, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("closed_at", UTCDateTime()),
    Column("closed_by", String(256)),
    Column("close_note", Text),
)

backups = Table(
    "backups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("deployment_id", ForeignKey("deployments.id"), index=True),
    Column("location", Text, nullable=False),
    Column("checksum", String(128), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("source", String(256), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

verification_samples = Table(
    "verification_samples",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("deployment_id", ForeignKey("deployments.id"), nullable=False),
    Column("stage", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("values", JSON, nullable=False),
    Index("ix_samples_deployment_stage", "deployment_id", "stage"),
)

# Tokens for the REST API (used from the web issue on); only the hash is stored.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), unique=True, nullable=False),
    Column("token_hash", String(128), unique=True, nullable=False),
    Column("role", String(32), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_used_at", UTCDateTime()),
    Column("revoked_at", UTCDateTime()),
    # migration 0004: the user a token acts as (roles come from the config) and its expiry
    Column("user", String(256)),
    Column("expires_at", UTCDateTime()),
)

queued_deployments = Table(
    # A deployment asked for with ``--queue`` (migration 0005): what a worker needs to run
    # it — the config as it was validated, the repository and commit it came from — and
    # where it stands. The deployment it becomes is an ordinary ``deployments`` row
    # (``deployment_id``); secrets are never here, the worker resolves them.
    "queued_deployments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project", String(128), nullable=False),
    Column("environment", String(128), nullable=False),
    Column("version", String(256), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("action", String(16), nullable=False),
    Column("options", JSON, nullable=False),
    Column("user", String(256), nullable=False),
    Column("via", String(32)),
    Column("os_user", String(256)),
    Column("repository", Text, nullable=False),
    Column("commit", String(64), nullable=False),
    Column("config_path", Text, nullable=False),
    Column("config_text", Text, nullable=False),
    Column("queue", String(64), nullable=False),
    Column("job_id", BigInteger),
    Column("status", String(32), nullable=False),
    Column("waiting", Text),
    Column("not_after", UTCDateTime()),
    Column("deployment_id", ForeignKey("deployments.id")),
    Column("worker", String(256)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime()),
    Column("finished_at", UTCDateTime()),
    Column("detail", Text),
    Index("ix_queued_status_id", "status", "id"),
    Index("ix_queued_env_id", "environment", "id"),
)


def postgresql_options() -> None:
    """Give the partial unique index its PostgreSQL ``WHERE`` too (idempotent).

    A ``postgresql_where`` argument makes SQLAlchemy import its PostgreSQL dialect when
    the index is built (~20 ms of every command on a SQLite store), so it is added when a
    PostgreSQL engine is made, i.e. when that dialect is loaded anyway.
    """
    for index in approvals.indexes:
        if index.name == "uq_approvals_live_role":
            index.dialect_kwargs["postgresql_where"] = _ACTIVE
