"""Alembic, run from inside the installed package: no alembic.ini in the user's directory.

Alembic is imported only when a migration has to run: opening an up-to-date store checks
the version table with one query, which keeps every CLI command quick to start.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import Connection

from releasegate.errors import StoreError
from releasegate.store.connection import WRITE_OPTION

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006")
"""The migrations in ``migrations/versions``, oldest first (a test keeps this in step)."""
HEAD = REVISIONS[-1]
"""The newest migration: the schema this code reads and writes."""
_PG_MIGRATION_LOCK = 0x72675F6D  # any constant: serialises concurrent migrators


def alembic_config() -> Config:
    """An Alembic config pointing at the migrations shipped in the package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    """The newest migration shipped with this version of releasegate, according to Alembic."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None for an empty database)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade_engine(engine: Engine, revision: str = "head", *, where: str = "") -> None:
    """Migrate up to ``revision`` in one transaction that holds the write lock.

    ``where`` (the redacted URL) names the store in the error for an unknown schema.
    """
    if revision in ("head", HEAD) and current_revision(engine) == HEAD:
        return
    from alembic import command

    with _migrating(engine, where) as config:
        command.upgrade(config, revision)


def require_current(engine: Engine, *, where: str = "") -> None:
    """Raise :class:`StoreError` unless the database is at :data:`HEAD` (changes nothing)."""
    current = current_revision(engine)
    if current == HEAD:
        return
    where = where or str(engine.url)
    if current is None:
        raise StoreError(
            f"the store at {where} has no releasegate schema yet: run `releasegate db upgrade`"
        )
    if current in REVISIONS:
        raise StoreError(
            f"the store at {where} is at schema {current} and this releasegate needs {HEAD}: "
            "run `releasegate db upgrade`"
        )
    raise StoreError(
        f"the store at {where} has a schema this releasegate does not know ({current!r}); "
        "was it written by a newer version?"
    )


def downgrade_engine(engine: Engine, revision: str, *, where: str = "") -> None:
    """Migrate down to ``revision`` (``"base"`` drops every table)."""
    from alembic import command

    with _migrating(engine, where) as config:
        command.downgrade(config, revision)


@contextmanager
def _migrating(engine: Engine, where: str) -> Iterator[Config]:
    from alembic.util.exc import CommandError

    try:
        with engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                _lock(conn)
                config = alembic_config()
                config.attributes["connection"] = conn
                yield config
    except CommandError as exc:
        raise StoreError(
            f"the store at {where or engine.url} has a schema this releasegate does not "
            f"know ({exc}); was it written by a newer version?"
        ) from exc


def _lock(conn: Connection) -> None:
    # SQLite: BEGIN IMMEDIATE already holds the write lock. PostgreSQL: two processes opening
    # a fresh database at once must not both create the tables.
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
