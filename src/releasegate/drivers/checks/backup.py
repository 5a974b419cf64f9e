"""``backup``: dump the database to a checksummed file — kept in a directory or uploaded
to S3 and verified there — and catalogue it in the store."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from pydantic import Field, field_validator

from releasegate.drivers.api import Options, StepContext, StepResult
from releasegate.drivers.checks.backup_s3 import client, is_s3, object_url, upload_verified
from releasegate.drivers.checks.database import (
    DEFAULT_DATABASE,
    Database,
    parse_database,
    sha256_file,
)
from releasegate.drivers.process import resolve_secret, run_process
from releasegate.errors import DriverError


class BackupOptions(Options):
    """Options of ``backup``."""

    database: str = Field(
        DEFAULT_DATABASE,
        description="The database URL (postgresql://... or sqlite:///...); usually a secret "
        "reference. Never printed.",
    )
    dir: str | None = Field(
        None, description="Where backups go (relative to the config); default .releasegate/backups."
    )
    storage: str | None = Field(
        None, description="s3://bucket/prefix: the backup is uploaded there, read back and "
        "its SHA-256 checked, and kept only there (the local copy is removed); unset: it "
        "stays in dir. Credentials and endpoint: the usual AWS environment and files.",
    )

    @field_validator("storage")
    @classmethod
    def _s3_only(cls, value: str | None) -> str | None:
        if value is not None and (not is_s3(value) or not value.removeprefix("s3://").split("/")[0]):
            raise ValueError(f"{value!r} is not s3://bucket/prefix (a directory goes in dir)")
        return value


def backup_dir(option: str | None, ctx: StepContext) -> Path:
    return ctx.workdir / option if option else ctx.state_dir / "backups"


def database_of(option: str, ctx: StepContext) -> Database:
    return parse_database(resolve_secret(ctx, option, what="database"), workdir=ctx.workdir)


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.is_file():
        raise DriverError(f"database file {source} does not exist")
    try:
        with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, \
                contextlib.closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
    except sqlite3.Error as exc:
        raise DriverError(f"sqlite backup failed: {exc}") from exc


async def _dump(db: Database, target: Path, ctx: StepContext) -> None:
    if db.kind == "sqlite":
        assert db.path is not None
        await asyncio.to_thread(_sqlite_backup, db.path, target)
        return
    result = await run_process(
        ["pg_dump", "-Fc", "--no-password", "-f", str(target), "--dbname", db.conninfo],
        cwd=ctx.workdir,
        env={**os.environ, **db.pg_env()},
        redact=ctx.secrets.redact,
    )
    if not result.ok:
        raise DriverError(f"pg_dump failed: {result.last_line() or result.describe()}")


class Backup:
    """pg_dump -Fc (PostgreSQL) or the SQLite backup API, then SHA-256 and the catalogue.

    Safe to re-run: each run writes a new file.
    """

    name: ClassVar[str] = "backup"
    Options: ClassVar[type[BackupOptions]] = BackupOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: BackupOptions, ctx: StepContext) -> StepResult:
        folder = backup_dir(options.dir, ctx)
        partial: Path | None = None
        try:
            db = database_of(options.database, ctx)
            try:
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                raise DriverError(f"backup directory {folder} cannot be created: {exc.strerror}") from exc
            if not os.access(folder, os.W_OK):
                raise DriverError(f"backup directory {folder} is not writable")
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            name = db.label.rsplit("/", 1)[-1].removesuffix(".db")
            suffix = "dump" if db.kind == "postgresql" else "sqlite"
            final = folder / f"{ctx.release.environment}-{name}-{ctx.release.version}-{stamp}.{suffix}"
            partial = final.with_name(final.name + ".partial")
            started = time.monotonic()
            ctx.progress(f"backing up {db.label} to {final}")
            await _dump(db, partial, ctx)
            checksum = await asyncio.to_thread(sha256_file, partial)
            partial.chmod(0o600)  # a copy of the database: as private as the database
            partial.rename(final)
            partial = None
            size = final.stat().st_size
            location = str(final)
            if options.storage:
                location = object_url(options.storage, final.name)
                ctx.progress(f"uploading {final.name} to {location}")
                try:
                    await asyncio.to_thread(upload_verified, client(), final, location, checksum)
                finally:
                    final.unlink(missing_ok=True)  # kept in S3 only (or, refused, nowhere)
            else:
                Path(str(final) + ".sha256").write_text(f"{checksum}  {final.name}\n")
            duration = time.monotonic() - started
        except DriverError as exc:
            return StepResult(ok=False, summary=ctx.secrets.redact(str(exc)))
        except OSError as exc:
            return StepResult(ok=False, summary=f"backup could not be written to {folder}: {exc.strerror}")
        finally:
            if partial is not None:
                partial.unlink(missing_ok=True)
        backup_id = ctx.facts.record_backup(
            location=location, checksum=checksum, size=size, duration_s=duration,
            kind=db.kind, source=db.label,
        )
        return StepResult(
            ok=True,
            summary=f"backup {backup_id} of {db.label}: {size} bytes in {duration:.1f}s"
            + (f", uploaded to {location} and verified" if options.storage else ""),
            evidence={
                "backup_id": backup_id, "location": location, "sha256": checksum,
                "size": size, "duration_s": round(duration, 3), "source": db.label,
            },
        )
