"""The database: SQLite by default, PostgreSQL when ``DATABASE_URL`` says so.

SQL in this package is written once, with ``?`` placeholders and portable types (TEXT ids,
ISO-8601 TEXT timestamps, INTEGER money in paise), and runs on both.
"""

from __future__ import annotations

import queue
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

Row = dict[str, Any]


class DatabaseError(RuntimeError):
    """The database cannot be reached or answered with an error."""


class Connection(Protocol):
    """What the app uses of a DB-API connection."""

    def execute(self, sql: str, params: Sequence[object] = ()) -> Any: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...


def _sqlite_path(url: str) -> Path:
    # sqlite:///relative/path or sqlite:////absolute/path, as SQLAlchemy spells them.
    return Path(url.removeprefix("sqlite:///"))


def _dict_factory(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {col[0]: value for col, value in zip(cursor.description, row, strict=True)}


class Database:
    """A small pool of connections to one database, with ``?`` placeholders everywhere."""

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        if url.startswith("sqlite:///"):
            self.kind = "sqlite"
        elif url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
            self.kind = "postgresql"
        else:
            scheme = url.split(":", 1)[0]
            raise DatabaseError(f"DATABASE_URL: unsupported scheme {scheme!r} (sqlite, postgresql)")
        self.url = url
        self._errors: tuple[type[Exception], ...] = (sqlite3.Error,)
        if self.kind == "postgresql":
            import psycopg  # only PostgreSQL deployments pay for importing it

            self._errors += (psycopg.Error,)
        self._idle: queue.LifoQueue[Connection] = queue.LifoQueue(maxsize=pool_size)

    def _connect(self) -> Connection:
        if self.kind == "sqlite":
            path = _sqlite_path(self.url)
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                conn = sqlite3.connect(path, timeout=10, check_same_thread=False)
                conn.row_factory = _dict_factory
                conn.execute("PRAGMA journal_mode=WAL")  # readers do not block the other version
            except sqlite3.Error as exc:
                raise DatabaseError(f"cannot open SQLite database {path}: {exc}") from exc
            return conn
        import psycopg
        from psycopg.rows import dict_row

        conninfo = self.url.replace("postgresql+psycopg://", "postgresql://", 1)
        try:
            return _PgConnection(psycopg.connect(conninfo, row_factory=dict_row, connect_timeout=3))
        except psycopg.Error as exc:
            raise DatabaseError(f"cannot connect to PostgreSQL: {exc}".strip()) from exc

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection in a transaction: committed on success, rolled back on error."""
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            conn = self._connect()
        try:
            yield conn
            conn.commit()
        except self._errors as exc:
            conn.close()  # a failed connection may be broken; do not return it to the pool
            raise DatabaseError(f"{self.kind}: {exc}".strip()) from exc
        except BaseException:
            conn.close()
            raise
        try:
            self._idle.put_nowait(conn)
        except queue.Full:
            conn.close()

    def fetchone(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        """The first row of a query, or None."""
        with self.transaction() as conn:
            row: Row | None = conn.execute(sql, params).fetchone()
            return row

    def fetchall(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """All rows of a query."""
        with self.transaction() as conn:
            rows: list[Row] = conn.execute(sql, params).fetchall()
            return rows

    def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        """Run one statement in its own transaction."""
        with self.transaction() as conn:
            conn.execute(sql, params)

    def close(self) -> None:
        """Close the idle connections."""
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


class _PgConnection:
    """A psycopg connection that takes ``?`` placeholders like sqlite3 does."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[object] = ()) -> Any:
        return self._conn.execute(sql.replace("?", "%s"), params)

    def commit(self) -> None:
        self._conn.commit()

    def rollback(self) -> None:
        self._conn.rollback()

    def close(self) -> None:
        self._conn.close()
