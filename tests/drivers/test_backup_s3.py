"""``backup`` with ``storage: s3://…`` as the checklist's "verify backup uploaded to S3":
the upload read back and checked, restore and backup-verify from S3, retention of S3
backups, and a bucket that refuses — against moto's S3 server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3  # type: ignore[import-untyped]
import pytest
from pydantic import ValidationError
from tests.support.s3 import moto_s3

from releasegate.drivers.checks.backup import Backup
from releasegate.drivers.checks.backup_verify import BackupVerify
from releasegate.drivers.checks.restore import Restore
from releasegate.metrics.retention import BackupItem, archive, is_good
from releasegate.testing import FakeFacts, run_driver

OPTIONS = {"database": "sqlite:///app.db", "storage": "s3://acme-backups/db/production"}


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    with moto_s3(monkeypatch):
        client = boto3.client("s3")
        client.create_bucket(Bucket="acme-backups")
        yield client


@pytest.fixture
def app_db(tmp_path: Path) -> Path:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
        conn.executemany("INSERT INTO users (email) VALUES (?)", [(f"u{i}@x.in",) for i in range(20)])
    return path


def _users(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM users").fetchone()[0])


def test_backup_to_s3_is_verified_restored_and_checked(s3, app_db: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    facts = FakeFacts()
    made = run_driver(Backup(), OPTIONS, workdir=tmp_path, facts=facts)
    assert made.ok, made.summary
    [info] = facts.backups
    assert info.location.startswith("s3://acme-backups/db/production/test-app-")
    assert made.summary.endswith(f", uploaded to {info.location} and verified")
    key = info.location.removeprefix("s3://acme-backups/")
    stored = s3.get_object(Bucket="acme-backups", Key=key)
    body = stored["Body"].read()
    assert hashlib.sha256(body).hexdigest() == info.checksum == stored["Metadata"]["sha256"]
    assert info.size == len(body)
    # kept in S3 only: no copy of the database left beside the state
    assert not list((tmp_path / ".releasegate" / "backups").glob("test-app-*"))
    assert is_good(info.location, info.checksum)

    verified = run_driver(BackupVerify(), {"database": OPTIONS["database"], "compare_counts": True},
                          workdir=tmp_path, facts=facts)
    assert verified.ok, verified.summary
    assert verified.evidence["location"] == info.location
    assert verified.evidence["restored_tables"] == {"users": 20}

    with sqlite3.connect(app_db) as conn:
        conn.execute("DELETE FROM users")
    restored = run_driver(Restore(), {"database": OPTIONS["database"]}, workdir=tmp_path, facts=facts)
    assert restored.ok, restored.summary
    assert _users(app_db) == 20
    assert not list((tmp_path / ".releasegate" / "backups").glob(".from-s3-*"))  # download removed

    # an object changed in the bucket is caught before it is restored
    s3.put_object(Bucket="acme-backups", Key=key, Body=b"not the backup")
    corrupt = run_driver(Restore(), {"database": OPTIONS["database"]}, workdir=tmp_path, facts=facts)
    assert not corrupt.ok
    assert corrupt.summary.startswith(f"backup .from-s3-{key.rsplit('/', 1)[-1]} is corrupt: SHA-256 ")
    assert _users(app_db) == 20


def test_a_bucket_that_refuses_fails_the_backup_clearly(s3, app_db: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    facts = FakeFacts()
    made = run_driver(Backup(), {**OPTIONS, "storage": "s3://no-such-bucket/db"}, workdir=tmp_path, facts=facts)
    assert not made.ok
    assert made.summary.startswith("s3://no-such-bucket refused the upload of test-app-")
    assert made.summary.endswith(": NoSuchBucket")
    assert facts.backups == []
    assert not list((tmp_path / ".releasegate" / "backups").glob("test-app-*"))


def test_storage_must_be_an_s3_url() -> None:
    """Refused where the config is checked, before anything runs."""
    for wrong in ("/mnt/backups", "s3://"):
        with pytest.raises(ValidationError, match=r"is not s3://bucket/prefix \(a directory goes in dir\)"):
            Backup.Options.model_validate({**OPTIONS, "storage": wrong})


def test_expired_s3_backups_are_archived_within_s3_to_a_directory_or_deleted(s3, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    for name in ("a.sqlite", "b.sqlite", "c.sqlite"):
        data = name.encode() * 100
        s3.put_object(Bucket="acme-backups", Key=f"db/{name}", Body=data,
                      Metadata={"sha256": hashlib.sha256(data).hexdigest()})

    def item(id: int, name: str) -> BackupItem:
        return BackupItem(id, "production", f"s3://acme-backups/db/{name}", now - timedelta(days=200), True)

    [moved] = archive([item(1, "a.sqlite")], "s3://acme-backups/archive", workdir=tmp_path)
    assert moved.moved_to == "s3://acme-backups/archive/a.sqlite"
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="acme-backups")["Contents"]}
    assert "archive/a.sqlite" in keys
    assert "db/a.sqlite" not in keys

    [local] = archive([item(2, "b.sqlite")], "old-backups", workdir=tmp_path)
    assert local.moved_to == str(tmp_path / "old-backups" / "b.sqlite")
    assert (tmp_path / "old-backups" / "b.sqlite").read_bytes() == b"b.sqlite" * 100
    assert (tmp_path / "old-backups" / "b.sqlite.sha256").is_file()

    [gone] = archive([item(3, "c.sqlite")], None, workdir=tmp_path)
    assert gone.moved_to is None
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="acme-backups")["Contents"]}
    assert keys == {"archive/a.sqlite"}
    assert not is_good("s3://acme-backups/db/c.sqlite", "0" * 64)
