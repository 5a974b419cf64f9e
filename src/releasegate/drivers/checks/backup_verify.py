"""``backup-verify``: the latest backup is fresh, intact and actually restores."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

from pydantic import Field, JsonValue

from releasegate.config.types import Duration
from releasegate.drivers.api import Options, StepContext, StepResult
from releasegate.drivers.checks.backup import database_of
from releasegate.drivers.checks.backup_files import (
    Found,
    check_checksum,
    find_backup,
    restore_into,
)
from releasegate.drivers.checks.database import (
    DEFAULT_DATABASE,
    Database,
    pg_admin,
    pg_counts,
    sqlite_counts,
)
from releasegate.errors import DriverError


class BackupVerifyOptions(Options):
    """Options of ``backup-verify``."""

    database: str = Field(
        DEFAULT_DATABASE, description="The database whose backups are checked (a secret reference)."
    )
    backup: str | None = Field(
        None, description="A backup file (or s3:// URL) to check; default the latest catalogued "
        "for the database (downloaded first when it is kept in S3)."
    )
    max_age: Duration = Field(timedelta(hours=24), description="The backup must be at most this old.")
    restore_dry_run: bool = Field(
        True,
        description="Restore it into a scratch database (created and dropped for the purpose); "
        "for SQLite, restore a copy and run PRAGMA integrity_check.",
    )
    compare_counts: bool = Field(
        False, description="Also compare each table's row count with the live database."
    )


def _sqlite_check(found: Found, scratch: Path) -> dict[str, int]:
    shutil.copyfile(found.path, scratch)
    try:
        with sqlite3.connect(scratch) as conn:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise DriverError(f"backup {found.path.name} is not a SQLite database: {exc}") from exc
    if verdict != "ok":
        raise DriverError(f"backup {found.path.name} fails integrity_check: {verdict}")
    return sqlite_counts(scratch)


async def _restored_counts(ctx: StepContext, db: Database, found: Found) -> dict[str, int]:
    if db.kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="rg-verify-") as tmp:
            return await asyncio.to_thread(_sqlite_check, found, Path(tmp) / "scratch.db")
    scratch = db.with_name(f"rg_verify_{uuid.uuid4().hex[:12]}")
    scratch_name = scratch.label.rsplit("/", 1)[1]
    await asyncio.to_thread(pg_admin, db, f'CREATE DATABASE "{scratch_name}"')
    try:
        await restore_into(ctx, found.path, scratch, clean=False)
        return await asyncio.to_thread(pg_counts, scratch)
    finally:
        await asyncio.shield(
            asyncio.to_thread(pg_admin, db, f'DROP DATABASE IF EXISTS "{scratch_name}" WITH (FORCE)')
        )


class BackupVerify:
    """Checksum re-computed, age within ``max_age``, and a restore into a scratch database."""

    name: ClassVar[str] = "backup-verify"
    Options: ClassVar[type[BackupVerifyOptions]] = BackupVerifyOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: BackupVerifyOptions, ctx: StepContext) -> StepResult:
        evidence: dict[str, JsonValue] = {}
        found: Found | None = None
        try:
            db = database_of(options.database, ctx)
            found = find_backup(ctx, db, options.backup)
            evidence.update(backup_id=found.backup_id, location=found.location)
            age = timedelta(seconds=max(time.time() - found.created_at, 0))
            evidence["age_s"] = round(age.total_seconds())
            if age > options.max_age:
                raise DriverError(
                    f"latest backup {found.path.name} is {_hours(age)} old, more than {_hours(options.max_age)}"
                )
            evidence["sha256"] = await check_checksum(found)
            done = ["checksum ok", f"{_hours(age)} old"]
            if options.restore_dry_run:
                ctx.progress(f"restoring {found.path.name} into a scratch database")
                counts = await _restored_counts(ctx, db, found)
                evidence["restored_tables"] = dict(counts)
                done.append(f"restored {len(counts)} tables")
                if options.compare_counts:
                    live = await asyncio.to_thread(_live_counts, db)
                    diffs = [
                        f"{t}: backup {counts.get(t)}, live {live.get(t)}"
                        for t in sorted(set(counts) | set(live))
                        if counts.get(t) != live.get(t)
                    ]
                    if diffs:
                        raise DriverError("row counts differ: " + "; ".join(diffs[:5]))
                    done.append("row counts match")
        except DriverError as exc:
            return StepResult(ok=False, summary=ctx.secrets.redact(str(exc)), evidence=evidence)
        finally:
            if found is not None:
                found.discard()
        return StepResult(ok=True, summary=f"backup {found.path.name}: " + ", ".join(done), evidence=evidence)


def _live_counts(db: Database) -> dict[str, int]:
    if db.kind == "sqlite":
        assert db.path is not None
        if not db.path.is_file():
            raise DriverError(f"database file {db.path} does not exist")
        return sqlite_counts(db.path)
    return pg_counts(db)


def _hours(value: timedelta) -> str:
    hours = value.total_seconds() / 3600
    return f"{hours:.1f}h" if hours >= 1 else f"{value.total_seconds() / 60:.0f}m"
