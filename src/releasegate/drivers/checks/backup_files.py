"""Finding a backup (a given file or the latest catalogued one) and checking its checksum,
and restoring one into a database — shared by ``backup-verify`` and ``restore``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from releasegate.drivers.api import StepContext
from releasegate.drivers.checks.database import Database, sha256_file
from releasegate.drivers.process import run_process
from releasegate.errors import DriverError


@dataclass(frozen=True)
class Found:
    path: Path
    created_at: float
    expected_checksum: str | None
    backup_id: int | None


def find_backup(ctx: StepContext, db: Database, given: str | None) -> Found:
    """The file ``given`` (checksum from its ``.sha256`` sidecar), or the latest catalogued
    backup of ``db``."""
    if given is not None:
        path = ctx.workdir / given
        if not path.is_file():
            raise DriverError(f"backup file {given} does not exist")
        sidecar = Path(str(path) + ".sha256")
        expected = sidecar.read_text().split()[0] if sidecar.is_file() else None
        return Found(path, path.stat().st_mtime, expected, None)
    info = ctx.facts.latest_backup(source=db.label)
    if info is None:
        raise DriverError(f"no backup of {db.label} is catalogued")
    path = Path(info.location)
    if not path.is_file():
        raise DriverError(f"backup {info.id} is catalogued but its file {path} is gone")
    return Found(path, info.created_at, info.checksum, info.id)


async def check_checksum(found: Found) -> str:
    """The file's SHA-256, after checking it against the recorded one."""
    actual = await asyncio.to_thread(sha256_file, found.path)
    if found.expected_checksum is not None and actual != found.expected_checksum:
        raise DriverError(
            f"backup {found.path.name} is corrupt: SHA-256 {actual[:12]}..., "
            f"recorded {found.expected_checksum[:12]}..."
        )
    return actual


def _sqlite_restore(backup: Path, target: Path) -> None:
    try:
        with contextlib.closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as src, \
                contextlib.closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
    except sqlite3.Error as exc:
        raise DriverError(f"sqlite restore failed: {exc}") from exc


async def restore_into(ctx: StepContext, backup: Path, db: Database, *, clean: bool) -> None:
    """Load ``backup`` into ``db`` (pg_restore, or the SQLite backup API)."""
    if db.kind == "sqlite":
        assert db.path is not None
        await asyncio.to_thread(_sqlite_restore, backup, db.path)
        return
    argv = ["pg_restore", "--no-owner", "--no-password", "--exit-on-error"]
    if clean:
        argv += ["--clean", "--if-exists"]
    result = await run_process(
        [*argv, "--dbname", db.conninfo, str(backup)],
        cwd=ctx.workdir,
        env={**os.environ, **db.pg_env()},
        redact=ctx.secrets.redact,
    )
    if not result.ok:
        raise DriverError(f"pg_restore failed: {result.last_line() or result.describe()}")
