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
    """A local file: the backup itself, or (``temporary``) a downloaded copy of it."""
    created_at: float
    expected_checksum: str | None
    backup_id: int | None
    location: str = ""
    """Where the backup is kept (the file's path, or its s3:// URL)."""
    temporary: bool = False

    def discard(self) -> None:
        """Remove a downloaded copy (a backup kept locally stays)."""
        if self.temporary:
            self.path.unlink(missing_ok=True)


def _from_s3(ctx: StepContext, url: str, created_at: float | None, expected: str | None,
             backup_id: int | None) -> Found:
    """Download the S3 backup at ``url`` next to the state; the checksum expected is the
    catalogued one, else the one stored with the object at upload."""
    import time

    from releasegate.drivers.checks import backup_s3

    s3 = backup_s3.client()
    if expected is None:
        expected = backup_s3.stored_checksum(s3, url)
    folder = ctx.state_dir / "backups"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = folder / f".from-s3-{url.rsplit('/', 1)[-1]}"
    ctx.progress(f"downloading {url}")
    backup_s3.download(s3, url, target)
    return Found(target, created_at if created_at is not None else time.time(), expected,
                 backup_id, url, temporary=True)


def find_backup(ctx: StepContext, db: Database, given: str | None) -> Found:
    """The file ``given`` (checksum from its ``.sha256`` sidecar), or the latest catalogued
    backup of ``db``. A backup kept in S3 (``s3://…``, given or catalogued) is downloaded:
    call :meth:`Found.discard` when done with it."""
    from releasegate.drivers.checks.backup_s3 import is_s3

    if given is not None and is_s3(given):
        return _from_s3(ctx, given, None, None, None)
    if given is not None:
        path = ctx.workdir / given
        if not path.is_file():
            raise DriverError(f"backup file {given} does not exist")
        sidecar = Path(str(path) + ".sha256")
        expected = sidecar.read_text().split()[0] if sidecar.is_file() else None
        return Found(path, path.stat().st_mtime, expected, None, str(path))
    info = ctx.facts.latest_backup(source=db.label)
    if info is None:
        raise DriverError(f"no backup of {db.label} is catalogued")
    if is_s3(info.location):
        return _from_s3(ctx, info.location, info.created_at, info.checksum, info.id)
    path = Path(info.location)
    if not path.is_file():
        raise DriverError(f"backup {info.id} is catalogued but its file {path} is gone")
    return Found(path, info.created_at, info.checksum, info.id, str(path))


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
