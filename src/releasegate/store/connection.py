"""Turning a store URL into a configured SQLAlchemy engine, and driver errors into ours.

URLs are parsed strictly (:func:`parse_url`): a typo is an error naming the URL, never a
SQLite file created somewhere by accident. SQLite gets WAL, foreign keys, a busy timeout
and explicit ``BEGIN``/``BEGIN IMMEDIATE`` (Python's sqlite3 driver would otherwise skip
BEGIN for SELECT and DDL). PostgreSQL goes through psycopg 3 with a connect timeout.
Every JSON column is written as canonical JSON (:func:`canonical_dumps`), so the text in
the database is exactly the text the event chain and the row seals hash.
"""

from __future__ import annotations

import json
import os
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
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
"""A bare path (no ``scheme://``) is taken for a SQLite file if it ends so or holds a ``/``."""

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_FORMS = "write sqlite:///PATH or postgresql://USER@HOST/DB"
_PG_DRIVERS = {"postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"}


def canonical_dumps(value: object) -> str:
    """Canonical JSON: sorted keys, no whitespace, UTF-8 characters as they are."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def parse_url(url: str) -> URL:
    """The SQLAlchemy URL for a store URL; a bare path ending in ``.db`` means a SQLite file.

    Raises :class:`StoreError` naming the URL (password hidden) and what is wrong with it.
    """
    text = url.strip()
    scheme = _SCHEME.match(text)
    if scheme is None:
        if not text or not (text.endswith(SQLITE_SUFFIXES) or "/" in text):
            raise StoreError(f"{redact(url)!r} is not a store URL ({_FORMS})")
        text = f"sqlite:///{text}"
    elif not text[scheme.end() :].startswith("//"):
        raise StoreError(
            f"{redact(url)} is not a store URL: '{scheme.group(1)}:' must be followed by "
            f"// ({_FORMS})"
        )
    try:
        parsed = make_url(text)
    except (ArgumentError, ValueError) as exc:
        raise StoreError(f"{redact(url)} is not a store URL ({exc}; {_FORMS})") from exc
    if parsed.drivername == "sqlite":
        return _sqlite_url(url, parsed)
    if parsed.drivername in _PG_DRIVERS:
        if not parsed.database:
            raise StoreError(f"{redact(url)} names no database ({_FORMS})")
        return parsed.set(drivername="postgresql+psycopg")
    raise StoreError(f"unsupported store URL {redact(url)}: use sqlite:/// or postgresql://")


def _sqlite_url(url: str, parsed: URL) -> URL:
    if parsed.host:
        raise StoreError(
            f"{redact(url)} is not a store URL: a SQLite URL has no host; write "
            f"sqlite:///{parsed.host} (relative to the working directory) or "
            "sqlite:////ABSOLUTE/PATH"
        )
    if parsed.database in (None, ":memory:") and url.strip() in ("sqlite://", "sqlite:///:memory:"):
        return parsed  # an in-memory store, asked for explicitly
    if not parsed.database:
        raise StoreError(f"{redact(url)} names no SQLite file ({_FORMS})")
    return parsed.set(database=os.path.abspath(Path(parsed.database).expanduser()))


def redact(url: str) -> str:
    """``url`` as the user wrote it, with any password replaced by ``***``."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def sqlite_path(url: URL) -> Path | None:
    """The database file of a SQLite URL (None for in-memory databases and PostgreSQL)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def make_engine(url: URL, *, read_only: bool = False) -> Engine:
    """A configured engine for ``url`` (nothing is connected yet).

    ``read_only``: every transaction refuses writes (SQLite ``query_only``, PostgreSQL
    ``default_transaction_read_only``).
    """
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, read_only=read_only)
    from releasegate.store.schema import postgresql_options

    postgresql_options()
    connect_args: dict[str, object] = {"connect_timeout": CONNECT_TIMEOUT_S}
    if read_only:
        connect_args["options"] = "-c default_transaction_read_only=on"
    return create_engine(
        url,
        connect_args=connect_args,
        pool_pre_ping=True,
        json_serializer=canonical_dumps,
    )


def _sqlite_engine(url: URL, *, read_only: bool) -> Engine:
    memory = sqlite_path(url) is None
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        poolclass=StaticPool if memory else None,
        json_serializer=canonical_dumps,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
        cursor = dbapi_conn.cursor()
        try:
            if not memory and not read_only:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            if read_only:
                cursor.execute("PRAGMA query_only=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE_OPTION, False) and not read_only
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
        ("attempt to write a readonly database", "the store was opened read-only"),
        ("read-only transaction", "the store was opened read-only"),
    ):
        if needle in lowered:
            return reason
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    return first.removeprefix("connection failed: ")


def store_error(action: str, url: str, exc: SQLAlchemyError | OSError) -> StoreError:
    """``StoreError("cannot <action> the store at <url>: <reason>")`` with the URL redacted."""
    return StoreError(f"cannot {action} the store at {redact(url)}: {describe(exc)}")
