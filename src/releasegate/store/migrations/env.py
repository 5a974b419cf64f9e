"""Alembic environment: runs on the connection releasegate hands over (see ``migrate.py``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from releasegate.store.tables import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(connection)
        return
    # Run from the alembic command line with sqlalchemy.url set (developers only).
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url, or run migrations through releasegate.store")
    with create_engine(url).begin() as conn:
        _run(conn)


_main()
