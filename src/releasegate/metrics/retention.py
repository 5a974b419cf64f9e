"""Backup retention: keep the last N days, archive (or delete) the rest — never the newest
good backup of any environment, however old it is.

>>> plan = plan_prune(backups, keep_days=90, now=now)      # pure: nothing touched
>>> moved = archive(plan.expired, "s3://acme-backups/db", workdir=root)   # or a directory

An archive is a directory (relative to the config) or ``s3://bucket/prefix`` (boto3; the
credentials and endpoint come from the usual AWS environment variables and files). A file
is removed from its place only after its copy is written and its size checked. Backups the
``backup`` step kept in S3 (``storage: s3://…``) are moved within S3, downloaded into an
archive directory, or deleted.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from releasegate.errors import DriverError


@dataclass(frozen=True)
class BackupItem:
    """A catalogued backup, as retention sees it."""

    id: int
    environment: str
    """The environment it was taken for (or, for one taken outside a deployment, its source)."""
    location: str
    created_at: datetime
    good: bool
    """Its file is there and matches its recorded checksum (see :func:`is_good`)."""


@dataclass(frozen=True)
class PrunePlan:
    """Which backups stay and which go, with the reason for each that stays though old."""

    keep: list[BackupItem]
    expired: list[BackupItem]
    reasons: dict[int, str]


def plan_prune(backups: list[BackupItem], keep_days: int, now: datetime) -> PrunePlan:
    """Backups older than ``keep_days`` expire, except the newest good backup of each
    environment (so an environment never loses its last restorable backup)."""
    cutoff = now - timedelta(days=keep_days)
    newest_good: dict[str, BackupItem] = {}
    for item in backups:
        best = newest_good.get(item.environment)
        if item.good and (best is None or (item.created_at, item.id) > (best.created_at, best.id)):
            newest_good[item.environment] = item
    protected = {b.id for b in newest_good.values()}
    keep: list[BackupItem] = []
    expired: list[BackupItem] = []
    reasons: dict[int, str] = {}
    for item in sorted(backups, key=lambda b: (b.created_at, b.id)):
        if item.created_at >= cutoff:
            keep.append(item)
        elif item.id in protected:
            keep.append(item)
            reasons[item.id] = f"the newest good backup of {item.environment}"
        else:
            expired.append(item)
    return PrunePlan(keep, expired, reasons)


def is_good(location: str, checksum: str) -> bool:
    """Whether the backup file exists and its SHA-256 is ``checksum``; for a backup kept
    in S3, whether the object is there with that checksum (verified when it was uploaded).
    An S3 that cannot be asked counts as not good: never the one protected."""
    if location.startswith("s3://"):
        from releasegate.drivers.checks import backup_s3

        try:
            return backup_s3.stored_checksum(backup_s3.client(), location) == checksum
        except Exception:  # noqa: BLE001 — unknown is not good
            return False
    path = Path(location)
    if not path.is_file():
        return False
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest() == checksum


@dataclass(frozen=True)
class Archived:
    """Where an expired backup went (``None``: it was deleted, no archive configured)."""

    id: int
    moved_to: str | None


def archive(expired: list[BackupItem], destination: str | None, *, workdir: Path) -> list[Archived]:
    """Move each expired backup (and its ``.sha256`` sidecar) to ``destination``, or delete
    it when there is none. Stops at the first failure with a DriverError naming it; what
    was moved before stays moved (the result lists it on the error's ``done``)."""
    done: list[Archived] = []
    client = _s3_client() if destination and destination.startswith("s3://") else None
    for item in expired:
        source = Path(item.location)
        try:
            if item.location.startswith("s3://"):
                done.append(Archived(item.id, _s3_item(item.location, destination, workdir)))
            elif destination is None:
                source.unlink(missing_ok=True)
                Path(f"{source}.sha256").unlink(missing_ok=True)
                done.append(Archived(item.id, None))
            elif client is not None:
                done.append(Archived(item.id, _to_s3(client, source, destination)))
            else:
                done.append(Archived(item.id, _to_dir(source, workdir / destination)))
        except DriverError as exc:
            exc.done = done  # type: ignore[attr-defined]
            raise
        except OSError as exc:
            error = DriverError(f"backup {item.id} ({source.name}) cannot be archived: {exc.strerror}")
            error.done = done  # type: ignore[attr-defined]
            raise error from exc
    return done


def _s3_item(url: str, destination: str | None, workdir: Path) -> str | None:
    """A backup kept in S3: moved under an s3:// archive, downloaded into an archive
    directory (its SHA-256 checked), or deleted when there is no archive."""
    from releasegate.drivers.checks import backup_s3

    s3 = backup_s3.client()
    if destination is None:
        backup_s3.delete(s3, url)
        return None
    if destination.startswith("s3://"):
        return backup_s3.move(s3, url, destination)
    folder = workdir / destination
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / url.rsplit("/", 1)[-1]
    backup_s3.download(s3, url, target)
    expected = backup_s3.stored_checksum(s3, url)
    if expected is not None and not is_good(str(target), expected):
        target.unlink()
        raise DriverError(f"the archive copy of {url} does not match its SHA-256")
    if expected is not None:
        Path(f"{target}.sha256").write_text(f"{expected}  {target.name}\n")
    backup_s3.delete(s3, url)
    return str(target)


def _to_dir(source: Path, folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    shutil.copy2(source, target)
    if target.stat().st_size != source.stat().st_size:
        raise DriverError(f"archive copy of {source.name} is incomplete")
    sidecar = Path(f"{source}.sha256")
    if sidecar.is_file():
        shutil.copy2(sidecar, folder / sidecar.name)
        sidecar.unlink()
    source.unlink()
    return str(target)


def _s3_client() -> object:
    try:
        import boto3  # type: ignore[import-untyped]
    except ImportError as exc:
        raise DriverError("archiving to S3 needs boto3 (pip install boto3)") from exc
    return boto3.client("s3")


def _to_s3(client: object, source: Path, destination: str) -> str:
    from boto3.exceptions import S3UploadFailedError  # type: ignore[import-untyped]
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    bucket, _, prefix = destination.removeprefix("s3://").partition("/")
    key = f"{prefix.strip('/')}/{source.name}" if prefix.strip("/") else source.name
    try:
        client.upload_file(str(source), bucket, key)  # type: ignore[attr-defined]
        size = client.head_object(Bucket=bucket, Key=key)["ContentLength"]  # type: ignore[attr-defined]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise DriverError(f"s3://{bucket} refused {source.name}: {code}") from exc
    except S3UploadFailedError as exc:
        found = re.search(r"\((\w+)\)", str(exc))
        code = found.group(1) if found else "upload failed"
        raise DriverError(f"s3://{bucket} refused {source.name}: {code}") from exc
    except BotoCoreError as exc:
        raise DriverError(f"s3://{bucket} cannot be reached: {exc.__class__.__name__}") from exc
    except OSError as exc:
        raise DriverError(f"{source.name} cannot be read: {exc.strerror}") from exc
    if size != source.stat().st_size:
        raise DriverError(f"s3://{bucket}/{key} is {size} bytes, the backup {source.stat().st_size}")
    source.unlink()
    Path(f"{source}.sha256").unlink(missing_ok=True)
    return f"s3://{bucket}/{key}"
