"""The records-that-count use cases over a real workspace: metrics graded from recorded
deployments, defects, the announcement, the report, backup retention."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from releasegate.errors import PermissionDenied, UsageError
from releasegate.service import deployments
from releasegate.service import metrics as service

from .conftest import actor, environment

PROD = environment("production", extra="    url: https://shop.example\n")
LOW_MIN_N = "metrics: {min_n: 2}\n"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> str | None:
    """The store: the default SQLite file beside the config, or a fresh PostgreSQL database."""
    return None if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))


def test_metrics_grade_only_with_enough_deployments_and_count_defects(make_ws, db) -> None:  # type: ignore[no-untyped-def]
    ws = make_ws(PROD, top=LOW_MIN_N)
    ws.db_url = db
    dev = actor(ws, "dev")
    first = deployments.deploy(ws, dev, "production", "1.0")
    where = service.scope(ws)
    assert (where.project, where.environment) == ("t", "production")
    one = service.metrics(ws, dev, where).to_json()
    assert one["success_rate"]["status"] == "not enough data"  # type: ignore[index]
    assert one["success_rate"]["met"] is None  # type: ignore[index]
    deployments.deploy(ws, dev, "production", "1.1")
    service.add_defect(ws, actor(ws, "ana"), first.deployment_id or 0, kind="bug", note="cart empty")
    report = service.metrics(ws, dev, service.scope(ws)).to_json()
    for key in ("deployment_frequency", "lead_time", "change_failure_rate", "recovery_time",
                "rollback_rate", "success_rate", "deployment_duration", "downtime", "rework_rate"):
        assert {"value", "unit", "target", "met", "n"} <= set(report[key])  # type: ignore[arg-type]
    rate = report["success_rate"]
    assert isinstance(rate, dict)
    assert (rate["value"], rate["met"], rate["n"]) == (1.0, True, 2)
    assert report["bugs"]["value"] == 0.5  # type: ignore[index]
    assert report["bugs"]["met"] is True  # type: ignore[index]   # target "< 1"


def test_scope_options_are_checked(make_ws) -> None:  # type: ignore[no-untyped-def]
    ws = make_ws(PROD)
    with pytest.raises(UsageError, match="--since: 'soon' is neither a duration"):
        service.scope(ws, since="soon")
    with pytest.raises(UsageError, match="staging"):
        service.scope(ws, env="staging")
    now = datetime(2026, 11, 1, tzinfo=UTC)
    where = service.scope(ws, env="all", project="all", since="2026-10-01", now=now)
    assert (where.project, where.environment, where.include_unlabelled) == (None, None, False)
    assert where.since == datetime(2026, 10, 1, tzinfo=UTC)
    assert where.until == now
    with pytest.raises(UsageError, match="the period is empty"):
        service.scope(ws, since="2026-12-01", now=now)


def test_defect_add_refuses_unknown_kinds_and_deployments(make_ws) -> None:  # type: ignore[no-untyped-def]
    ws = make_ws(PROD)
    dev = actor(ws, "dev")
    done = deployments.deploy(ws, dev, "production", "1.0")
    with pytest.raises(UsageError, match="--kind: 'typo' is not one of bug, security"):
        service.add_defect(ws, dev, done.deployment_id or 0, kind="typo")
    with pytest.raises(UsageError, match="there is no deployment 99"):
        service.add_defect(ws, dev, 99, kind="bug")
    assert [e.type for e in ws.store.list_events(types=("defect.recorded",))] == []


def test_announcement_and_report_come_from_the_records(make_ws, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws = make_ws(PROD)
    ws.db_url = db
    dev = actor(ws, "dev")
    done = deployments.deploy(ws, dev, "production", "2.3.0")
    text = service.announcement(ws, dev, done.deployment_id or 0)
    assert text.startswith("✅ Production Deployment Complete")
    assert "Version: v2.3.0" in text
    assert "Downtime: None (zero-downtime deployment)" in text
    assert "Service: https://shop.example" in text
    with pytest.raises(UsageError, match="there is no deployment 42"):
        service.announcement(ws, dev, 42)
    path = service.write_report(ws, dev, service.scope(ws), tmp_path / "out")
    html = path.read_text()
    assert path.parent == tmp_path / "out"
    assert html.count("<svg") == 4
    assert "Success rate" in html


def _backup(ws, folder: Path, name: str, deployment_id: int | None, *, good: bool = True) -> int:  # type: ignore[no-untyped-def]
    path = folder / name
    path.write_bytes(name.encode())
    digest = hashlib.sha256(name.encode() if good else b"other").hexdigest()
    record = ws.store.record_backup(deployment_id=deployment_id, location=str(path), checksum=digest,
                                    size=len(name), duration_s=0.1, kind="file", source="db")
    return int(record.id)


def test_prune_archives_old_backups_but_never_an_environments_newest_good_one(make_ws, db) -> None:  # type: ignore[no-untyped-def]
    ws = make_ws(PROD, top="backups: {keep_days: 30, archive: archive}\n")
    ws.db_url = db
    dev = actor(ws, "dev")
    dep = deployments.deploy(ws, dev, "production", "1.0").deployment_id
    folder = ws.root / "backups"
    folder.mkdir()
    older = _backup(ws, folder, "prod-1.dump", dep)
    newest = _backup(ws, folder, "prod-2.dump", dep)
    broken = _backup(ws, folder, "prod-3.dump", dep, good=False)
    later = datetime.now(UTC) + timedelta(days=40)  # every backup is now past keep_days
    with pytest.raises(PermissionDenied, match=r"ana may not backups\.prune"):
        service.prune_backups(ws, actor(ws, "ana"), now=later)
    dry = service.prune_backups(ws, dev, dry_run=True, now=later)
    assert sorted(b.id for b in dry.plan.expired) == [older, broken]
    assert dry.moved == {}
    assert (folder / "prod-1.dump").exists()
    done = service.prune_backups(ws, dev, now=later)
    assert done.plan.reasons == {newest: "the newest good backup of production"}
    assert not (folder / "prod-1.dump").exists()
    assert (ws.root / "archive" / "prod-1.dump").read_bytes() == b"prod-1.dump"
    assert (folder / "prod-2.dump").exists()
    left, gone = service.list_backups(ws, dev)
    assert [b.id for b in left] == [newest]
    assert set(gone) == {older, broken}
    again = service.prune_backups(ws, dev, now=later)  # what moved is not moved twice
    assert again.plan.expired == []
    assert again.moved == {}
