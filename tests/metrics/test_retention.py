"""Backup retention: the plan, and archiving to a directory and to S3 (moto's server)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3  # type: ignore[import-untyped]
import pytest
from tests.support.s3 import moto_s3

from releasegate.errors import DriverError
from releasegate.metrics.retention import BackupItem, archive, is_good, plan_prune

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _item(id: int, env: str, days_old: float, *, good: bool = True, location: str = "") -> BackupItem:
    return BackupItem(id, env, location or f"/b/{id}", NOW - timedelta(days=days_old), good)


def test_old_backups_expire_but_each_environments_newest_good_one_stays() -> None:
    backups = [
        _item(1, "production", 200), _item(2, "production", 120), _item(3, "production", 10),
        _item(4, "staging", 300), _item(5, "staging", 100, good=False),  # staging's only good: 4
        _item(6, "analytics", 95, good=False),  # nothing good there: nothing to protect
    ]
    plan = plan_prune(backups, keep_days=90, now=NOW)
    assert [b.id for b in plan.keep] == [4, 3]
    assert [b.id for b in plan.expired] == [1, 2, 5, 6]
    assert plan.reasons == {4: "the newest good backup of staging"}


def _backup(folder: Path, name: str, content: bytes) -> BackupItem:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    (folder / f"{name}.sha256").write_text(f"{hashlib.sha256(content).hexdigest()}  {name}\n")
    return BackupItem(1, "production", str(path), NOW - timedelta(days=100), True)


def test_archive_to_a_directory(tmp_path: Path) -> None:
    item = _backup(tmp_path / "backups", "prod-1.dump", b"rows" * 100)
    assert is_good(item.location, hashlib.sha256(b"rows" * 100).hexdigest())
    [moved] = archive([item], "archive", workdir=tmp_path)
    assert moved.moved_to == str(tmp_path / "archive" / "prod-1.dump")
    assert not Path(item.location).exists()
    assert (tmp_path / "archive" / "prod-1.dump.sha256").is_file()
    assert not is_good(item.location, "x")


def test_no_archive_deletes(tmp_path: Path) -> None:
    item = _backup(tmp_path, "old.dump", b"x")
    assert archive([item], None, workdir=tmp_path)[0].moved_to is None
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's S3 server on 127.0.0.1, and the AWS environment pointing at it."""
    with moto_s3(monkeypatch) as url:
        yield url


def test_archive_to_s3(s3: str, tmp_path: Path) -> None:
    client = boto3.client("s3")
    client.create_bucket(Bucket="acme-backups")
    item = _backup(tmp_path, "prod-7.dump", b"data" * 1000)
    [moved] = archive([item], "s3://acme-backups/db/production", workdir=tmp_path)
    assert moved.moved_to == "s3://acme-backups/db/production/prod-7.dump"
    body = client.get_object(Bucket="acme-backups", Key="db/production/prod-7.dump")["Body"].read()
    assert body == b"data" * 1000
    assert not Path(item.location).exists()


def test_a_bucket_that_refuses_keeps_the_file(s3: str, tmp_path: Path) -> None:
    item = _backup(tmp_path, "prod-8.dump", b"data")
    with pytest.raises(DriverError, match=r"^s3://missing-bucket refused prod-8.dump: NoSuchBucket$"):
        archive([item], "s3://missing-bucket", workdir=tmp_path)
    assert Path(item.location).exists()
