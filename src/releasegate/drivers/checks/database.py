"""Databases as the backup drivers see them: PostgreSQL (pg_dump/pg_restore) and SQLite.

A database URL may hold a password: it is passed to libpq through ``PGPASSWORD``, never on
a command line, and :attr:`Database.label` (host, port, name) is what is shown and stored.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from releasegate.errors import DriverError

DEFAULT_DATABASE = "${env:DATABASE_URL}"


@dataclass(frozen=True)
class Database:
    kind: str
    """``postgresql`` or ``sqlite``."""
    label: str
    """Where it is, without credentials: the backup catalogue's ``source``."""
    conninfo: str = ""
    """libpq URL without the password (PostgreSQL)."""
    password: str | None = None
    path: Path | None = None
    """The database file (SQLite)."""

    def pg_env(self) -> dict[str, str]:
        return {"PGPASSWORD": self.password} if self.password else {}

    def with_name(self, name: str) -> Database:
        """The same server, another database (PostgreSQL)."""
        parts = urlsplit(self.conninfo)
        conninfo = urlunsplit(parts._replace(path="/" + name))
        return Database(self.kind, self.label.rsplit("/", 1)[0] + "/" + name, conninfo, self.password)

    def connect_kwargs(self) -> dict[str, str]:
        return {"conninfo": self.conninfo, **({"password": self.password} if self.password else {})}


def parse_database(url: str, *, workdir: Path) -> Database:
    """A :class:`Database` from ``postgresql://``, ``postgresql+psycopg://``, ``postgres://``
    or ``sqlite:///path`` (relative paths against ``workdir``)."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme in {"postgresql", "postgres"}:
        host = parts.hostname or "localhost"
        port = parts.port or 5432
        name = parts.path.lstrip("/")
        if not name:
            raise DriverError("the database URL names no database")
        user = f"{unquote(parts.username)}@" if parts.username else ""
        netloc = f"{user}{host}:{port}"
        conninfo = urlunsplit(("postgresql", netloc, parts.path, parts.query, ""))
        password = unquote(parts.password) if parts.password else None
        return Database("postgresql", f"postgresql://{host}:{port}/{name}", conninfo, password)
    if scheme == "sqlite":
        raw = url.split(":///", 1)[1] if ":///" in url else ""
        if not raw:
            raise DriverError("a sqlite URL needs a path: sqlite:///path/to/file.db")
        path = Path(raw) if Path(raw).is_absolute() else workdir / raw
        return Database("sqlite", f"sqlite:///{path}", path=path)
    raise DriverError(
        f"unsupported database URL scheme {parts.scheme or '(none)'!r} "
        "(use postgresql:// or sqlite:///)"
    )


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def sqlite_counts(path: Path) -> dict[str, int]:
    """Row counts of every table of a SQLite database."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in sorted(names)}


def pg_counts(db: Database) -> dict[str, int]:
    """Row counts of every user table of a PostgreSQL database (``schema.table`` → rows)."""
    import psycopg

    try:
        return _pg_counts(db)
    except psycopg.Error as exc:
        raise DriverError(f"{db.label}: {str(exc).strip().splitlines()[0]}") from exc


def _pg_counts(db: Database) -> dict[str, int]:
    import psycopg
    from psycopg import sql

    with psycopg.connect(**db.connect_kwargs()) as conn:  # type: ignore[arg-type]
        tables = conn.execute(
            "SELECT schemaname, tablename FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
        ).fetchall()
        counts: dict[str, int] = {}
        for schema, table in tables:
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
            ).fetchone()
            counts[f"{schema}.{table}"] = int(row[0]) if row else 0
        return counts


def pg_admin(db: Database, statement: str) -> None:
    """Run one statement (CREATE/DROP DATABASE) in autocommit on ``db``'s server."""
    import psycopg

    try:
        with psycopg.connect(**db.connect_kwargs(), autocommit=True) as conn:  # type: ignore[arg-type]
            conn.execute(statement.encode())
    except psycopg.Error as exc:
        raise DriverError(f"{db.label}: {str(exc).strip().splitlines()[0]}") from exc
