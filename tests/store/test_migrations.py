"""The Alembic migrations shipped in the package: up, down to nothing, and up again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from releasegate.store import migrate
from releasegate.store.api import downgrade, open_store, upgrade
from releasegate.store.chain import event_hash
from releasegate.store.columns import UTCDateTime
from releasegate.store.connection import parse_url
from releasegate.store.tables import GENESIS_HASH, Base

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
    "release_facts",
    "release_changes",
    "defects",
    "failure_links",
    "outages",
    "notification_log",
    "queued_deployments",
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


def test_the_revisions_list_matches_the_migrations() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert [s.revision for s in reversed(list(script.walk_revisions()))] == list(migrate.REVISIONS)


T0 = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


def _insert(url: str, table: str, **values: object) -> None:
    """Write a row as releasegate 0001 did (plain json.dumps for JSON columns)."""
    types = {datetime: UTCDateTime(), bool: sa.Boolean(), dict: sa.JSON(), float: sa.Float(),
             int: sa.BigInteger()}  # fmt: skip
    columns = [sa.column(k, types.get(type(v), sa.String())) for k, v in values.items()]
    engine = sa.create_engine(parse_url(url))
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(sa.table(table, *columns)).values(**values))
    finally:
        engine.dispose()


def _store_of_0001(url: str) -> None:
    """A store written by releasegate 0001: a legacy event, rows with duplicates."""
    upgrade(url, "0001")
    data = {"note": "written by 0001", "n": [1, 2.5]}
    hash = event_hash(GENESIS_HASH, id=1, deployment_id=None, at=T0, type="x.old", data=data)
    _insert(url, "events", id=1, at=T0, type="x.old", data=data, prev_hash=GENESIS_HASH, hash=hash)
    engine = sa.create_engine(parse_url(url))
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE event_chain_head SET last_id = 1, last_hash = :h, count = 1"), {"h": hash}
        )
    engine.dispose()
    _insert(
        url, "deployments", id=1, environment="production", version="1.0", kind="normal",
        status="running", user="ana", emergency=False, plan={"b": 1, "a": ["ü"]}, created_at=T0,
    )  # fmt: skip
    _insert(url, "locks", environment="production", deployment_id=1, holder="h", acquired_at=T0,
            heartbeat_at=T0, expires_at=T0)  # fmt: skip
    for id, user in ((1, "ana"), (2, "ben")):
        _insert(url, "approvals", id=id, environment="production", version="1.0", role="qa",
                user=user, created_at=T0)  # fmt: skip
        _insert(url, "confirmations", id=id, deployment_id=1, item="prod.x", user=user,
                created_at=T0)  # fmt: skip
    _insert(url, "freezes", id=1, start=T0, end=T0, reason="r", hard=True, created_by="a",
            created_at=T0)  # fmt: skip
    _insert(url, "incidents", id=1, title="t", severity="high", impact=3.0, action="rollback",
            opened_by="a", opened_at=T0)  # fmt: skip


def test_upgrading_a_0001_store_resolves_duplicates_and_seals_every_row(
    store_url: str, raw_sql: RawSql
) -> None:
    _store_of_0001(store_url)
    with open_store(store_url) as store:
        report = store.verify_chain()
        assert (report.ok, report.problems) == (True, [])
        approvals = store.list_approvals("production", "1.0", include_revoked=True)
        assert [(a.user, a.revoked_by) for a in approvals] == [
            ("ana", None),
            ("ben", "releasegate migration 0002 (duplicate of approval 1)"),
        ]
        assert [c.user for c in store.list_confirmations(1)] == ["ana"]
        assert store.get_lock("production").token == 1  # type: ignore[union-attr]
        (sealed,) = store.list_events(after_id=1)
        assert sealed.type == "store.sealed"
        assert sealed.data["revoked_duplicate_approvals"] == [2]
        assert sealed.data["deleted_duplicate_confirmations"] == [2]
        # the sealed legacy rows are now watched like any other
        raw_sql(store_url, "UPDATE deployments SET version = '6.6.6' WHERE id = 1")
        assert store.verify_chain().problems == ["deployments row 1 was edited: version"]


def test_downgrade_from_0002_keeps_the_rows_and_the_chain(store_url: str) -> None:
    _store_of_0001(store_url)
    upgrade(store_url)
    downgrade(store_url, "0001")
    engine = sa.create_engine(parse_url(store_url))
    try:
        inspector = inspect(engine)
        assert "os_user" not in {c["name"] for c in inspector.get_columns("approvals")}
        assert "token" not in {c["name"] for c in inspector.get_columns("locks")}
        assert {i["name"] for i in inspector.get_indexes("deployments")} == {
            "ix_deployments_env_status"
        }
        assert {i["name"] for i in inspector.get_indexes("approvals")} == {"ix_approvals_env_version"}
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM approvals")).scalar() == 2
    finally:
        engine.dispose()
    upgrade(store_url)
    assert _schema_differences(store_url) == []
    with open_store(store_url) as store:
        report = store.verify_chain()
        assert (report.ok, report.problems) == (True, [])
        assert [e.type for e in store.list_events()] == ["x.old", "store.sealed", "store.sealed"]
