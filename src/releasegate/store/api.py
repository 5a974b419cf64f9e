"""The store: every fact releasegate records, behind one class.

>>> store = open_store("sqlite:///.releasegate/state.db")   # migrates to the newest schema
>>> d = store.create_deployment(environment="staging", version="1.2.0", kind="normal",
...                             user="ana", plan={})
>>> store.verify_chain().ok
True

Every mutating method writes its rows and an audit event in one transaction. Every method
returns frozen records (``store/records.py``); all datetimes are timezone-aware UTC.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from releasegate.errors import LockedError, StoreError
from releasegate.store.backups import Backups
from releasegate.store.calendars import Calendars
from releasegate.store.connection import describe, make_engine, parse_url, redact, sqlite_path
from releasegate.store.deployments import Deployments
from releasegate.store.events import Events
from releasegate.store.incidents import Incidents
from releasegate.store.locks import Locks
from releasegate.store.migrate import downgrade_engine, upgrade_engine
from releasegate.store.records import (
    ApprovalRecord,
    AuditReport,
    BackupRecord,
    CampaignRecord,
    ConfirmationRecord,
    DeploymentRecord,
    EventRecord,
    FreezeRecord,
    IncidentRecord,
    JsonDict,
    LockRecord,
    ObligationRecord,
    ReleaseRecord,
    SampleRecord,
    StepRunRecord,
)
from releasegate.store.signoffs import Signoffs

__all__ = [
    "ApprovalRecord",
    "AuditReport",
    "BackupRecord",
    "CampaignRecord",
    "ConfirmationRecord",
    "DeploymentRecord",
    "EventRecord",
    "FreezeRecord",
    "IncidentRecord",
    "JsonDict",
    "LockRecord",
    "LockedError",
    "ObligationRecord",
    "ReleaseRecord",
    "SampleRecord",
    "StepRunRecord",
    "Store",
    "StoreError",
    "downgrade",
    "open_store",
    "upgrade",
]


class Store(Deployments, Events, Locks, Signoffs, Incidents, Calendars, Backups):
    """The state store (SQLite or PostgreSQL). Get one with :func:`open_store`."""

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_store(url: str, *, clock: Callable[[], datetime] | None = None) -> Store:
    """Open the store at ``url``, creating and migrating it to the newest schema as needed.

    ``url`` is ``sqlite:///PATH`` (or a bare path) or ``postgresql://USER@HOST/DB``.
    ``clock`` (a function returning an aware datetime) replaces the system clock, for tests.
    Raises :class:`StoreError` with one line naming the problem and the (redacted) URL.
    """
    engine = _engine_for(url)
    try:
        _translated(url, engine, lambda: upgrade_engine(engine, where=redact(url)))
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, redact(url), clock=clock)


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the store at ``url`` up to ``revision``."""
    engine = _engine_for(url)
    try:
        _translated(url, engine, lambda: upgrade_engine(engine, revision, where=redact(url)))
    finally:
        engine.dispose()


def downgrade(url: str, revision: str) -> None:
    """Migrate the store at ``url`` down to ``revision`` (``"base"``: no tables left)."""
    engine = _engine_for(url)
    try:
        _translated(url, engine, lambda: downgrade_engine(engine, revision, where=redact(url)))
    finally:
        engine.dispose()


def _engine_for(url: str) -> Engine:
    parsed = parse_url(url)
    path = sqlite_path(parsed)
    if path is not None:
        _prepare_directory(path)
    return make_engine(parsed)


def _prepare_directory(path: Path) -> None:
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the state directory {folder}: {exc.strerror or exc}"
        ) from exc
    if not path.exists() and not os.access(folder, os.W_OK):
        raise StoreError(f"cannot write to the state directory {folder}: Permission denied")


def _translated(url: str, engine: Engine, action: Callable[[], None]) -> None:
    try:
        action()
    except (SQLAlchemyError, OSError) as exc:
        verb = "connect to" if engine.dialect.name == "postgresql" else "open"
        raise StoreError(f"cannot {verb} the store at {redact(url)}: {describe(exc)}") from exc
