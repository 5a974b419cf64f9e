"""Backups kept in S3 (``storage: s3://bucket/prefix``): upload with the SHA-256 verified
by reading the object back, download for a restore, and the checks and moves retention
needs. boto3 finds credentials and the endpoint (``AWS_ENDPOINT_URL`` for an S3-compatible
server) the usual way: environment, ``~/.aws``, instance roles.

Every failure is a :class:`DriverError` naming the bucket and S3's error code
(``AccessDenied``, ``NoSuchBucket``…), never a credential.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from releasegate.errors import DriverError

SCHEME = "s3://"
CHECKSUM_KEY = "sha256"
"""The object metadata key (``x-amz-meta-sha256``) holding the backup's SHA-256."""


def is_s3(location: str | None) -> bool:
    """Whether ``location`` names an S3 object or prefix."""
    return bool(location) and str(location).startswith(SCHEME)


def split(url: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` → ``("bucket", "a/b")``; a URL without a bucket is refused."""
    bucket, _, key = url.removeprefix(SCHEME).partition("/")
    if not bucket:
        raise DriverError(f"{url!r} names no bucket (write s3://bucket/prefix)")
    return bucket, key.strip("/")


def object_url(prefix_url: str, name: str) -> str:
    """The URL of ``name`` under the prefix ``prefix_url``."""
    bucket, prefix = split(prefix_url)
    return f"{SCHEME}{bucket}/{prefix}/{name}" if prefix else f"{SCHEME}{bucket}/{name}"


def client() -> Any:
    """A boto3 S3 client (boto3 is imported only when S3 is used)."""
    try:
        import boto3  # type: ignore[import-untyped]
    except ImportError as exc:
        raise DriverError("backups in S3 need boto3 (pip install boto3)") from exc
    return boto3.client("s3")


@contextmanager
def _errors(url: str, what: str) -> Iterator[None]:
    """S3's refusals as DriverErrors: ``s3://bucket refused <what>: <code>``."""
    from boto3.exceptions import S3UploadFailedError  # type: ignore[import-untyped]
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    bucket, _ = split(url)
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise DriverError(f"s3://{bucket} refused {what}: {code}") from exc
    except S3UploadFailedError as exc:
        found = re.search(r"\((\w+)\)", str(exc))
        raise DriverError(f"s3://{bucket} refused {what}: {found.group(1) if found else 'upload failed'}") from exc
    except BotoCoreError as exc:
        raise DriverError(f"s3://{bucket} cannot be reached: {exc.__class__.__name__}") from exc


def upload_verified(s3: Any, source: Path, url: str, checksum: str) -> None:
    """Upload ``source`` to ``url`` with its SHA-256 in the object's metadata, then read
    the object back and hash it: a backup counts as stored only when S3 gives back the
    same bytes (the checklist's "verify backup uploaded to S3")."""
    bucket, key = split(url)
    with _errors(url, f"the upload of {source.name}"):
        s3.upload_file(str(source), bucket, key, ExtraArgs={"Metadata": {CHECKSUM_KEY: checksum}})
    with _errors(url, f"reading {source.name} back"):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        digest = hashlib.sha256()
        for block in iter(lambda: body.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != checksum:
        raise DriverError(
            f"{url} does not match the backup after upload: SHA-256 {digest.hexdigest()[:12]}..., "
            f"written {checksum[:12]}..."
        )


def download(s3: Any, url: str, target: Path) -> None:
    """Copy the object at ``url`` into the file ``target`` (private: a database copy)."""
    bucket, key = split(url)
    with _errors(url, f"the download of {key.rsplit('/', 1)[-1]}"):
        s3.download_file(bucket, key, str(target))
    target.chmod(0o600)


def stored_checksum(s3: Any, url: str) -> str | None:
    """The SHA-256 recorded with the object at upload; None when it is gone."""
    from botocore.exceptions import ClientError

    bucket, key = split(url)
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    meta: dict[str, str] = head.get("Metadata", {})
    return meta.get(CHECKSUM_KEY)


def move(s3: Any, url: str, destination: str) -> str:
    """Copy the object to the prefix ``destination`` (same or another bucket), check the
    copy's size, then delete the original; returns the new URL."""
    bucket, key = split(url)
    target = object_url(destination, key.rsplit("/", 1)[-1])
    to_bucket, to_key = split(target)
    with _errors(destination, f"the archive copy of {key}"):
        s3.copy_object(Bucket=to_bucket, Key=to_key, CopySource={"Bucket": bucket, "Key": key},
                       MetadataDirective="COPY")
        sizes = {s3.head_object(Bucket=b, Key=k)["ContentLength"] for b, k in ((bucket, key), (to_bucket, to_key))}
    if len(sizes) != 1:
        raise DriverError(f"the archive copy {target} is incomplete")
    delete(s3, url)
    return target


def delete(s3: Any, url: str) -> None:
    """Delete the object at ``url``."""
    bucket, key = split(url)
    with _errors(url, f"deleting {key}"):
        s3.delete_object(Bucket=bucket, Key=key)
