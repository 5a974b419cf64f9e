"""Backups taken around deployments, and the verification samples measured after them."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from pydantic import JsonValue
from sqlalchemy import delete, select

from releasegate.store import schema
from releasegate.store.base import StoreBase, to_record
from releasegate.store.records import BackupRecord, SampleRecord

_BACKUPS = schema.backups
_VERIFICATION_SAMPLES = schema.verification_samples


class Backups(StoreBase):
    """Backups and verification samples."""

    def record_backup(
        self,
        *,
        deployment_id: int | None,
        location: str,
        checksum: str,
        size: int,
        duration_s: float,
        kind: str,
        source: str,
    ) -> BackupRecord:
        """Record a backup that was taken (where it is, its checksum and size)."""
        from releasegate.store.tables import BackupRow, DeploymentRow

        with self._write() as session:
            if deployment_id is not None:
                self._get(session, DeploymentRow, deployment_id, "deployment")
            row = BackupRow(
                deployment_id=deployment_id,
                location=location,
                checksum=checksum,
                size=size,
                duration_s=duration_s,
                kind=kind,
                source=source,
                created_at=self._now(),
            )
            session.add(row)
            session.flush()
            self._append(
                session,
                "backup.recorded",
                {
                    "backup_id": row.id,
                    "location": location,
                    "checksum": checksum,
                    "size": size,
                    "duration_s": duration_s,
                    "kind": kind,
                    "source": source,
                },
                deployment_id=deployment_id,
            )
            return to_record(BackupRecord, row)

    def latest_backup(self, *, source: str | None = None) -> BackupRecord | None:
        """The newest backup (of ``source``, if given)."""
        query = select(_BACKUPS).order_by(_BACKUPS.c.created_at.desc(), _BACKUPS.c.id.desc())
        if source is not None:
            query = query.where(_BACKUPS.c.source == source)
        with self._read_conn() as conn:
            row = conn.execute(query.limit(1)).first()
            return None if row is None else to_record(BackupRecord, row)

    def list_backups(self, *, deployment_id: int | None = None) -> list[BackupRecord]:
        """Backups, oldest first (of one deployment, if given)."""
        query = select(_BACKUPS).order_by(_BACKUPS.c.id)
        if deployment_id is not None:
            query = query.where(_BACKUPS.c.deployment_id == deployment_id)
        with self._read_conn() as conn:
            return [to_record(BackupRecord, row) for row in conn.execute(query)]

    def add_sample(
        self, *, deployment_id: int, stage: str, at: datetime, values: dict[str, float]
    ) -> None:
        """Record metric values measured during a verification stage (no audit event)."""
        from releasegate.store.tables import DeploymentRow, VerificationSampleRow

        with self._write() as session:
            self._get(session, DeploymentRow, deployment_id, "deployment")
            session.add(
                VerificationSampleRow(
                    deployment_id=deployment_id, stage=stage, at=at, values=dict(values)
                )
            )

    def prune_samples(self, *, before: datetime, keep: Collection[int] = ()) -> int:
        """Delete verification samples taken before ``before``, except those of the
        deployments in ``keep`` (the baselines); returns how many were deleted and records
        that in an event."""
        query = delete(_VERIFICATION_SAMPLES).where(_VERIFICATION_SAMPLES.c.at < before)
        if keep:
            query = query.where(_VERIFICATION_SAMPLES.c.deployment_id.not_in(list(keep)))
        with self._write_conn() as conn:
            deleted = conn.execute(query).rowcount
            if deleted:
                self._append_conn(
                    conn, "samples.pruned",
                    {"before": before.isoformat(), "deleted": deleted,
                     "kept": list[JsonValue](sorted(keep))},
                )
            return deleted

    def list_samples(self, deployment_id: int, *, stage: str | None = None) -> list[SampleRecord]:
        """The samples of a deployment in time order (of one stage, if given)."""
        query = (
            select(_VERIFICATION_SAMPLES)
            .where(_VERIFICATION_SAMPLES.c.deployment_id == deployment_id)
            .order_by(_VERIFICATION_SAMPLES.c.at, _VERIFICATION_SAMPLES.c.id)
        )
        if stage is not None:
            query = query.where(_VERIFICATION_SAMPLES.c.stage == stage)
        with self._read_conn() as conn:
            return [to_record(SampleRecord, row) for row in conn.execute(query)]
