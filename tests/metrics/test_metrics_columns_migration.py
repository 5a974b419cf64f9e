"""Migration 0006: stored durations and lead times, backfilled from existing rows, and
its downgrade."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, create_engine, inspect, text

from releasegate.store.api import downgrade, upgrade
from releasegate.store.connection import parse_url

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _engine(url: str) -> Engine:
    return create_engine(parse_url(url))


def _columns(engine: Engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def _indexes(engine: Engine, table: str) -> set[str]:
    return {str(i["name"]) for i in inspect(engine).get_indexes(table)}


def _rows_of_0004(engine: Engine) -> None:
    """What a store at 0004 holds: a finished run, a blocked one that never started, and a
    live release whose second change was committed after it went live (clock skew)."""
    with engine.begin() as conn:
        insert = text(
            "INSERT INTO deployments (id, environment, version, kind, status, \"user\", emergency, "
            "plan, created_at, started_at, finished_at, project) VALUES (:id, 'production', :v, "
            "'normal', :status, 'ana', false, '{}', :created, :started, :finished, 'shop')"
        )
        conn.execute(insert, [
            {"id": 1, "v": "1.0.0", "status": "succeeded", "created": T0, "started": T0,
             "finished": T0 + timedelta(minutes=12, seconds=30)},
            {"id": 2, "v": "1.1.0", "status": "blocked", "created": T0, "started": None,
             "finished": T0 + timedelta(minutes=1)},
        ])
        conn.execute(text(
            "INSERT INTO release_facts (id, project, environment, version, kind, live_at, recorded_at) "
            "VALUES (1, 'shop', 'production', '1.0.0', 'normal', :live, :live)"
        ), {"live": T0 + timedelta(minutes=12, seconds=30)})
        conn.execute(text(
            "INSERT INTO release_changes (release_id, sha, first_commit_at, merged_at, subject) "
            "VALUES (1, :sha, :first, :first, 'change')"
        ), [{"sha": "a" * 40, "first": T0 - timedelta(hours=5)},
            {"sha": "b" * 40, "first": T0 + timedelta(hours=1)}])


def test_upgrade_backfills_and_downgrade_removes(store_url: str) -> None:
    upgrade(store_url, "0004")
    engine = _engine(store_url)
    try:
        _rows_of_0004(engine)
        upgrade(store_url, "0006")
        with engine.connect() as conn:
            durations = dict(conn.execute(text("SELECT id, duration_s FROM deployments")).all())
            changes = conn.execute(text(
                "SELECT sha, live_at, lead_s FROM release_changes ORDER BY sha")).all()
        assert durations[1] == pytest.approx(750, abs=0.01)
        assert durations[2] is None  # never started: no duration
        assert changes[0].lead_s == pytest.approx(5 * 3600 + 750, abs=0.01)
        assert changes[0].live_at is not None
        assert changes[1].lead_s is None  # committed after it went live: left out
        assert {"ix_deployments_duration", "ix_deployments_outcome"} <= _indexes(engine, "deployments")
        assert "ix_release_changes_lead" in _indexes(engine, "release_changes")

        downgrade(store_url, "0004")
        assert "duration_s" not in _columns(engine, "deployments")
        assert not {"lead_s", "live_at"} & _columns(engine, "release_changes")
        assert "ix_deployments_duration" not in _indexes(engine, "deployments")
        with engine.connect() as conn:  # the rows themselves stay
            assert conn.execute(text("SELECT count(*) FROM release_changes")).scalar() == 2

        upgrade(store_url)
        assert "duration_s" in _columns(engine, "deployments")
    finally:
        engine.dispose()
