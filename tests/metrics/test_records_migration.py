"""Migration 0003: its tables and columns, its downgrade, and the records' rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from tests.metrics.history import RecordsStore

from releasegate.errors import StoreError
from releasegate.store.api import downgrade, upgrade
from releasegate.store.connection import parse_url
from releasegate.store.facts_records import ChangeFact
from releasegate.store.tables import Base

NEW_TABLES = {
    "release_facts", "release_changes", "defects", "failure_links", "outages", "notification_log",
}


def _columns(url: str, table: str) -> set[str]:
    engine = create_engine(parse_url(url))
    try:
        return {c["name"] for c in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(parse_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _differences_in_new_tables(url: str) -> list[object]:
    engine = create_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    # the project columns are not in DeploymentRow/IncidentRow until the lead adds them
    return [d for d in diffs if NEW_TABLES & set(str(d).replace("'", " ").split())]


def test_upgrade_downgrade_upgrade(store_url: str) -> None:
    upgrade(store_url)
    assert _tables(store_url) >= NEW_TABLES
    assert "project" in _columns(store_url, "deployments")
    assert "project" in _columns(store_url, "incidents")
    assert _differences_in_new_tables(store_url) == []

    downgrade(store_url, "0001")
    assert not NEW_TABLES & _tables(store_url)
    assert "project" not in _columns(store_url, "deployments")
    assert "project" not in _columns(store_url, "incidents")

    upgrade(store_url, "0003")  # by name: migrate.HEAD still says 0001 until the merge
    assert _tables(store_url) >= NEW_TABLES


def _deployment(store: RecordsStore) -> int:
    return store.create_deployment(
        environment="production", version="1.0.0", kind="normal", user="ana", plan={}
    ).id


def test_a_version_is_recorded_once(store: RecordsStore) -> None:
    at = datetime(2026, 1, 5, 10, tzinfo=UTC)
    change = ChangeFact(sha="a" * 40, first_commit_at=at, merged_at=at, subject="Add search")
    first = store.record_release(
        project="shop", environment="production", version="1.0.0", kind="normal",
        commit="a" * 40, previous_commit=None, changes=[change],
    )
    again = store.record_release(
        project="shop", environment="production", version="1.0.0", kind="normal",
        commit="b" * 40, previous_commit=None, changes=[],
    )
    assert again == first
    assert store.mark_live(project="shop", environment="production", version="1.0.0", at=at)
    assert not store.mark_live(project="shop", environment="production", version="1.0.0", at=at)
    assert [e.type for e in store.list_events()][-2:] == ["release.recorded", "release.live"]


def test_defects_and_links_are_checked(store: RecordsStore) -> None:
    deployment = _deployment(store)
    store.add_defect(deployment, kind="bug", note="totals off by one", user="qa")
    with pytest.raises(StoreError, match=r"^defect kind 'typo' is not one of bug, security"):
        store.add_defect(deployment, kind="typo", note="x", user="qa")
    with pytest.raises(StoreError, match=r"^deployment 999 does not exist$"):
        store.add_defect(999, kind="bug", note="x", user="qa")
    incident = store.open_incident(
        title="checkout errors", severity="high", impact=10, environment="production",
        user="ops", action="quick rollback", deadline=None,
    )
    store.link_failure(deployment, cause="incident", incident_id=incident.id, user="ops")
    with pytest.raises(StoreError, match=rf"^deployment {deployment} is already linked to incident {incident.id}$"):
        store.link_failure(deployment, cause="incident", incident_id=incident.id, user="ops")
    with pytest.raises(StoreError, match=rf"^deployment {deployment} or incident 77 does not exist$"):
        store.link_failure(deployment, cause="incident", incident_id=77, user="ops")
    assert store.verify_chain().ok
