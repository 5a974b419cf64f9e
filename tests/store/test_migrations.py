"""The Alembic migrations shipped in the package: up, down to nothing, and up again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from releasegate.store import migrate
from releasegate.store.api import downgrade, open_store, upgrade
from releasegate.store.connection import parse_url
from releasegate.store.tables import Base

if TYPE_CHECKING:
    from tests.store.conftest import RawSql

TABLES = {
    "releases",
    "deployments",
    "step_runs",
    "events",
    "event_chain_head",
    "locks",
    "approvals",
    "confirmations",
    "incidents",
    "freezes",
    "campaigns",
    "obligations",
    "backups",
    "verification_samples",
    "api_tokens",
}


def _tables(url: str) -> set[str]:
    engine = create_engine(parse_url(url))
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _schema_differences(url: str) -> list[object]:
    engine = create_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_head_constant_matches_the_newest_migration() -> None:
    assert migrate.head_revision() == migrate.HEAD


def test_upgrade_downgrade_upgrade(store_url: str, raw_sql: RawSql) -> None:
    upgrade(store_url)
    assert _tables(store_url) == TABLES
    assert raw_sql(store_url, "SELECT version_num FROM alembic_version") == [(migrate.HEAD,)]
    assert _schema_differences(store_url) == []  # the models and the migrations agree
    with open_store(store_url) as store:
        store.append_event("x.y", {})

    downgrade(store_url, "base")
    assert _tables(store_url) == set()

    upgrade(store_url)
    assert _tables(store_url) == TABLES
    with open_store(store_url) as store:
        assert store.verify_chain().checked == 0  # a fresh genesis head
        assert store.append_event("x.y", {}).id == 1


def test_open_store_on_a_current_database_changes_nothing(store_url: str) -> None:
    with open_store(store_url) as store:
        store.append_event("x.y", {"n": 1})
    with open_store(store_url) as store:
        assert [e.data for e in store.list_events()] == [{"n": 1}]
