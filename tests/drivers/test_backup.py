"""``backup``, ``backup-verify`` and ``restore`` against the real PostgreSQL and SQLite."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from releasegate.drivers.api import BackupInfo
from releasegate.drivers.checks.backup import Backup
from releasegate.drivers.checks.backup_verify import BackupVerify
from releasegate.drivers.checks.restore import Restore
from releasegate.testing import FakeFacts, StaticSecrets, run_driver


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def shop_db(pg_url: str) -> str:
    """A PostgreSQL database with two tables of rows."""
    with psycopg.connect(_libpq(pg_url), autocommit=True) as conn:
        conn.execute("CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL)")
        conn.execute("CREATE TABLE orders (id serial PRIMARY KEY, customer int REFERENCES customers, total numeric)")
        conn.execute("INSERT INTO customers (name) SELECT 'c' || g FROM generate_series(1, 50) g")
        conn.execute("INSERT INTO orders (customer, total) SELECT 1 + g % 50, g * 1.5 FROM generate_series(1, 500) g")
    return pg_url


def _rows(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(_libpq(url)) as conn:
        return conn.execute("SELECT o.id, c.name, o.total FROM orders o JOIN customers c ON c.id = o.customer ORDER BY o.id").fetchall()


def _env(url: str) -> tuple[dict[str, str], StaticSecrets]:
    return {"database": "${env:DATABASE_URL}"}, StaticSecrets({"DATABASE_URL": url})


def test_postgres_backup_restore_round_trip(shop_db: str, tmp_path: Path) -> None:
    options, secrets = _env(shop_db)
    facts = FakeFacts()
    before = _rows(shop_db)
    made = run_driver(Backup(), options, workdir=tmp_path, secrets=secrets, facts=facts)
    assert made.ok, made.summary
    [info] = facts.backups
    assert info.kind == "postgresql"
    assert info.source == "postgresql://127.0.0.1:5432/" + shop_db.rsplit("/", 1)[1]
    assert Path(info.location).parent == tmp_path / ".releasegate" / "backups"
    assert info.size == Path(info.location).stat().st_size > 0
    assert len(info.checksum) == 64
    # a copy of the database is as private as the database: the owner's only
    assert Path(info.location).stat().st_mode & 0o777 == 0o600
    assert Path(info.location).parent.stat().st_mode & 0o777 == 0o700

    verified = run_driver(
        BackupVerify(), {**options, "compare_counts": True}, workdir=tmp_path, secrets=secrets, facts=facts
    )
    assert verified.ok, verified.summary
    assert verified.evidence["restored_tables"] == {"public.customers": 50, "public.orders": 500}
    assert "row counts match" in verified.summary

    with psycopg.connect(_libpq(shop_db), autocommit=True) as conn:
        conn.execute("DELETE FROM orders WHERE id > 10")
        conn.execute("UPDATE customers SET name = 'changed'")
    assert _rows(shop_db) != before
    restored = run_driver(Restore(), options, workdir=tmp_path, secrets=secrets, facts=facts)
    assert restored.ok, restored.summary
    assert _rows(shop_db) == before


def test_scratch_database_is_dropped(shop_db: str, tmp_path: Path) -> None:
    options, secrets = _env(shop_db)
    facts = FakeFacts()
    assert run_driver(Backup(), options, workdir=tmp_path, secrets=secrets, facts=facts).ok
    assert run_driver(BackupVerify(), options, workdir=tmp_path, secrets=secrets, facts=facts).ok
    with psycopg.connect(_libpq(shop_db)) as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'rg_verify_%'").fetchall()
    assert left == []


def test_password_never_shown(shop_db: str, tmp_path: Path) -> None:
    url = _libpq(shop_db).replace("postgres@", "postgres:hunter2-pw@")
    url = url.rsplit("/", 1)[0] + "/does_not_exist_db"
    options, secrets = _env(url)
    result = run_driver(Backup(), options, workdir=tmp_path, secrets=secrets)
    assert not result.ok
    assert result.summary.startswith("pg_dump failed: ")
    assert 'database "does_not_exist_db" does not exist' in result.summary
    assert "hunter2-pw" not in str(result)
    assert list((tmp_path / ".releasegate" / "backups").iterdir()) == []


def test_corrupt_backup_fails_verify_and_restore(shop_db: str, tmp_path: Path) -> None:
    options, secrets = _env(shop_db)
    facts = FakeFacts()
    assert run_driver(Backup(), options, workdir=tmp_path, secrets=secrets, facts=facts).ok
    with open(facts.backups[0].location, "r+b") as handle:
        handle.seek(100)
        handle.write(b"garbage")
    for driver in (BackupVerify(), Restore()):
        result = run_driver(driver, options, workdir=tmp_path, secrets=secrets, facts=facts)  # type: ignore[arg-type]
        assert not result.ok
        assert "is corrupt: SHA-256" in result.summary


def test_stale_backup_and_no_backup(shop_db: str, tmp_path: Path) -> None:
    options, secrets = _env(shop_db)
    facts = FakeFacts()
    result = run_driver(BackupVerify(), options, workdir=tmp_path, secrets=secrets, facts=facts)
    assert result.summary == f"no backup of postgresql://127.0.0.1:5432/{shop_db.rsplit('/', 1)[1]} is catalogued"
    assert run_driver(Backup(), options, workdir=tmp_path, secrets=secrets, facts=facts).ok
    old = facts.backups[0]
    facts.backups[0] = BackupInfo(**{**old.__dict__, "created_at": time.time() - 30 * 3600})
    result = run_driver(BackupVerify(), {**options, "max_age": "24h"}, workdir=tmp_path, secrets=secrets, facts=facts)
    assert not result.ok
    assert "is 30.0h old, more than 24.0h" in result.summary


def test_unwritable_backup_dir(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    db = tmp_path / "app.db"
    sqlite3.connect(db).close()
    result = run_driver(Backup(), {"database": f"sqlite:///{db}", "dir": "afile/backups"}, workdir=tmp_path)
    assert not result.ok
    assert result.summary == f"backup directory {tmp_path / 'afile/backups'} cannot be created: Not a directory"


def test_missing_database_secret_and_bad_scheme(tmp_path: Path) -> None:
    result = run_driver(Backup(), {}, workdir=tmp_path)
    assert result.summary == "database: secret ${env:DATABASE_URL} is not set"
    result = run_driver(Backup(), {"database": "mysql://x/y"}, workdir=tmp_path)
    assert result.summary == "unsupported database URL scheme 'mysql' (use postgresql:// or sqlite:///)"


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Path:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
        conn.executemany("INSERT INTO users (email) VALUES (?)", [(f"u{i}@x.in",) for i in range(20)])
    return path


def test_sqlite_round_trip(sqlite_db: Path, tmp_path: Path) -> None:
    facts = FakeFacts()
    options = {"database": "sqlite:///app.db"}
    assert run_driver(Backup(), options, workdir=tmp_path, facts=facts).ok
    verified = run_driver(BackupVerify(), {**options, "compare_counts": True}, workdir=tmp_path, facts=facts)
    assert verified.ok, verified.summary
    assert verified.evidence["restored_tables"] == {"users": 20}
    with sqlite3.connect(sqlite_db) as conn:
        conn.execute("DELETE FROM users")
    assert run_driver(Restore(), options, workdir=tmp_path, facts=facts).ok
    with sqlite3.connect(sqlite_db) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 20


def test_sqlite_missing_database_is_not_created(tmp_path: Path) -> None:
    result = run_driver(Backup(), {"database": "sqlite:///missing.db"}, workdir=tmp_path)
    assert not result.ok
    assert result.summary == f"database file {tmp_path / 'missing.db'} does not exist"
    assert not (tmp_path / "missing.db").exists()


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB tmpfs: writing more fails with ENOSPC (needs root to mount)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True, check=False)
    if made.returncode != 0 or os.geteuid() != 0:
        pytest.skip("cannot mount a small tmpfs here to make a full disk")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_full_disk_fails_the_backup_and_leaves_no_partial_file(shop_db: str, full_disk: Path, tmp_path: Path) -> None:
    with psycopg.connect(_libpq(shop_db), autocommit=True) as conn:
        conn.execute("CREATE TABLE blobs AS SELECT g AS id, md5(g::text) || repeat(md5(random()::text), 20) AS data FROM generate_series(1, 5000) g")
    options, secrets = _env(shop_db)
    result = run_driver(Backup(), {**options, "dir": str(full_disk)}, workdir=tmp_path, secrets=secrets)
    assert not result.ok
    assert result.summary.startswith("pg_dump failed: ")
    assert "No space left on device" in result.summary
    assert list(full_disk.iterdir()) == []
