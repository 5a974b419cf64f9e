"""The store: every fact releasegate records, behind one class.

>>> store = open_store("sqlite:///.releasegate/state.db")   # migrates to the newest schema
>>> d = store.create_deployment(environment="staging", version="1.2.0", kind="normal",
...                             user="ana", plan={})
>>> store.verify_chain().ok
True

``Store`` is a composition of small parts, one module each: deployments (with their
leases), steps, locks, events (and ``integrity.py``: verification), sign-offs, incidents,
calendars, backups. Every row policy decides on is sealed in the event that wrote it
(``seals.py``).

Every mutating method writes its rows and an audit event in one transaction. Every method
returns frozen records (``store/records.py``); all datetimes are timezone-aware UTC.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType

from sqlalchemy import Engine, insert
from sqlalchemy.exc import SQLAlchemyError

from releasegate.errors import LockedError, StoreError
from releasegate.store.backups import Backups
from releasegate.store.calendars import Calendars
from releasegate.store.connection import describe, make_engine, parse_url, redact, sqlite_path
from releasegate.store.deployments import Deployments
from releasegate.store.events import Events
from releasegate.store.facts_records import Records
from releasegate.store.incidents import Incidents
from releasegate.store.migrate import downgrade_engine, require_current, upgrade_engine
from releasegate.store.queue import Queue
from releasegate.store.records import (
    Anchor,
    ApprovalRecord,
    AuditReport,
    BackupRecord,
    CampaignRecord,
    ChainHead,
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
from releasegate.store.schema import GENESIS_HASH, event_chain_head, metadata
from releasegate.store.signoffs import Signoffs
from releasegate.store.steps import Steps
from releasegate.store.tokens import Tokens

__all__ = [
    "Anchor",
    "ApprovalRecord",
    "AuditReport",
    "BackupRecord",
    "CampaignRecord",
    "ChainHead",
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


class Store(
    Deployments, Steps, Events, Signoffs, Incidents, Calendars, Backups, Records, Tokens, Queue
):
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


def open_store(
    url: str, *, clock: Callable[[], datetime] | None = None, write: bool = True
) -> Store:
    """Open the store at ``url``, creating and migrating it to the newest schema as needed.

    ``url`` is ``sqlite:///PATH`` (or a bare path ending in ``.db``) or
    ``postgresql://USER@HOST/DB``. A new SQLite file is created 0600 (its ``-wal``/``-shm``
    follow) in a directory created 0700.

    With ``write=False`` nothing is created or migrated and every write is refused: a
    store whose schema is behind this releasegate raises :class:`StoreError` ("run
    `releasegate db upgrade`"), and a SQLite file that does not exist yet reads as an empty
    store (nothing has been recorded).

    ``clock`` (a function returning an aware datetime) replaces the system clock, for tests.
    Raises :class:`StoreError` with one line naming the problem and the (redacted) URL.
    """
    if not write:
        return _open_read_only(url, clock)
    engine = _engine_for(url)
    try:
        _translated(url, engine, lambda: upgrade_engine(engine, where=redact(url)))
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, redact(url), clock=clock)


def _open_read_only(url: str, clock: Callable[[], datetime] | None) -> Store:
    parsed = parse_url(url)
    path = sqlite_path(parsed)
    if path is not None and not path.exists():
        return Store(_empty_engine(), redact(url), clock=clock)
    engine = make_engine(parsed, read_only=True)
    try:
        _translated(url, engine, lambda: require_current(engine, where=redact(url)))
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, redact(url), clock=clock)


def _empty_engine() -> Engine:
    # the newest schema in memory, then read-only: reads find nothing, writes are refused
    engine = make_engine(parse_url("sqlite://"))
    with engine.begin() as conn:
        metadata.create_all(conn)
        conn.execute(
            insert(event_chain_head),
            {"id": 1, "last_id": 0, "last_hash": GENESIS_HASH, "count": 0},
        )
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA query_only=ON")
    return engine

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
        _prepare_file(path)
    return make_engine(parsed)


def _prepare_file(path: Path) -> None:
    """Create the state directory (0700) and an empty database file (0600) if missing.

    SQLite would create the file 0644, and its -wal/-shm files take the database file's
    mode: creating it first keeps all three private.
    """
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise StoreError(
            f"cannot create the state directory {folder}: {exc.strerror or exc}"
        ) from exc
    if path.exists():
        return
    if not os.access(folder, os.W_OK):
        raise StoreError(f"cannot write to the state directory {folder}: Permission denied")
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass  # another process created it first
    except OSError as exc:
        raise StoreError(f"cannot create the store file {path}: {exc.strerror or exc}") from exc


def _translated(url: str, engine: Engine, action: Callable[[], None]) -> None:
    try:
        action()
    except (SQLAlchemyError, OSError) as exc:
        verb = "connect to" if engine.dialect.name == "postgresql" else "open"
        raise StoreError(f"cannot {verb} the store at {redact(url)}: {describe(exc)}") from exc
