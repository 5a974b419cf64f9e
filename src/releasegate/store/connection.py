"""Turning a store URL into a configured SQLAlchemy engine, and driver errors into ours.

SQLite gets WAL, foreign keys, a busy timeout and explicit ``BEGIN``/``BEGIN IMMEDIATE``
(Python's sqlite3 driver would otherwise skip BEGIN for SELECT and DDL). PostgreSQL goes
through psycopg 3 with a connect timeout.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from releasegate.errors import StoreError

CONNECT_TIMEOUT_S = 5
SQLITE_BUSY_TIMEOUT_S = 30.0
WRITE_OPTION = "releasegate_write"
"""Execution option on a connection: its next transaction starts with BEGIN IMMEDIATE."""


def parse_url(url: str) -> URL:
    """The SQLAlchemy URL for a store URL; a bare path means a SQLite file."""
    text = url.strip()
    if "://" not in text:
        text = f"sqlite:///{Path(text).expanduser()}"
    try:
        parsed = make_url(text)
    except ArgumentError as exc:
        raise StoreError(
            f"{redact(url)} is not a store URL (write sqlite:///PATH or postgresql://USER@HOST/DB)"
        ) from exc
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(f"unsupported store URL {redact(url)}: use sqlite:/// or postgresql://")
    return parsed


def redact(url: str) -> str:
    """``url`` as the user wrote it, with any password replaced by ``***``."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def sqlite_path(url: URL) -> Path | None:
    """The database file of a SQLite URL (None for in-memory databases and PostgreSQL)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def make_engine(url: URL) -> Engine:
    """A configured engine for ``url`` (nothing is connected yet)."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_engine(
        url, connect_args={"connect_timeout": CONNECT_TIMEOUT_S}, pool_pre_ping=True
    )


def _sqlite_engine(url: URL) -> Engine:
    memory = sqlite_path(url) is None
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        poolclass=StaticPool if memory else None,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
        cursor = dbapi_conn.cursor()
        try:
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def describe(exc: BaseException) -> str:
    """A short, lower-case reason for a driver error: "connection refused", "timed out"."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip()
    lowered = text.lower()
    for needle, reason in (
        ("connection refused", "connection refused"),
        ("timeout expired", "timed out"),
        ("timed out", "timed out"),
        ("could not translate host name", "unknown host"),
        ("password authentication failed", "password authentication failed"),
        ("file is not a database", "file is not a database"),
        ("database disk image is malformed", "the database file is corrupt"),
        ("unable to open database file", "unable to open database file"),
    ):
        if needle in lowered:
            return reason
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    return first.removeprefix("connection failed: ")


def store_error(action: str, url: str, exc: SQLAlchemyError | OSError) -> StoreError:
    """``StoreError("cannot <action> the store at <url>: <reason>")`` with the URL redacted."""
    return StoreError(f"cannot {action} the store at {redact(url)}: {describe(exc)}")
