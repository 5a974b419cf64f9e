"""``restore``: put a backup (the latest, or a given file or s3:// URL) back into the database.

Used by the rollback of irreversible migrations; the checksum is checked first.
"""

from __future__ import annotations

import time
from typing import ClassVar

from pydantic import Field

from releasegate.drivers.api import Options, StepContext, StepResult
from releasegate.drivers.checks.backup import database_of
from releasegate.drivers.checks.backup_files import Found, check_checksum, find_backup, restore_into
from releasegate.drivers.checks.database import DEFAULT_DATABASE
from releasegate.errors import DriverError


class RestoreOptions(Options):
    """Options of ``restore``."""

    database: str = Field(
        DEFAULT_DATABASE, description="The database URL to restore into (usually a secret reference)."
    )
    backup: str | None = Field(
        None, description="A backup file (relative to the config) or s3:// URL; default the "
        "latest catalogued (downloaded first when it is kept in S3)."
    )
    clean: bool = Field(
        True, description="Drop the database's objects before recreating them (PostgreSQL)."
    )


class Restore:
    """pg_restore --clean (PostgreSQL) or the SQLite backup API. Re-running restores the
    same backup again, so it is safe to re-run."""

    name: ClassVar[str] = "restore"
    Options: ClassVar[type[RestoreOptions]] = RestoreOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: RestoreOptions, ctx: StepContext) -> StepResult:
        started = time.monotonic()
        found: Found | None = None
        try:
            db = database_of(options.database, ctx)
            found = find_backup(ctx, db, options.backup)
            checksum = await check_checksum(found)
            ctx.progress(f"restoring {found.path.name} into {db.label}")
            await restore_into(ctx, found.path, db, clean=options.clean)
        except DriverError as exc:
            return StepResult(ok=False, summary=ctx.secrets.redact(str(exc)))
        finally:
            if found is not None:
                found.discard()
        duration = time.monotonic() - started
        return StepResult(
            ok=True,
            summary=f"restored {found.path.name} into {db.label} in {duration:.1f}s",
            evidence={
                "backup_id": found.backup_id, "location": found.location, "sha256": checksum,
                "database": db.label, "duration_s": round(duration, 3),
            },
        )
