"""The store-backed :class:`~releasegate.drivers.api.Facts` a driver sees while it runs."""

from __future__ import annotations

from releasegate.drivers.api import BackupInfo, ConfirmationInfo
from releasegate.store.api import Store


class StoreFacts:
    def __init__(self, store: Store, deployment_id: int) -> None:
        self._store = store
        self._deployment_id = deployment_id

    def record_backup(
        self,
        *,
        location: str,
        checksum: str,
        size: int,
        duration_s: float,
        kind: str,
        source: str,
    ) -> int:
        record = self._store.record_backup(
            deployment_id=self._deployment_id,
            location=location,
            checksum=checksum,
            size=size,
            duration_s=duration_s,
            kind=kind,
            source=source,
        )
        return record.id

    def latest_backup(self, *, source: str) -> BackupInfo | None:
        record = self._store.latest_backup(source=source)
        if record is None:
            return None
        return BackupInfo(
            id=record.id,
            location=record.location,
            checksum=record.checksum,
            size=record.size,
            created_at=record.created_at.timestamp(),
            kind=record.kind,
            source=record.source,
            deployment_id=record.deployment_id,
        )

    def is_confirmed(self, item: str) -> ConfirmationInfo | None:
        for c in self._store.list_confirmations(self._deployment_id):
            if c.item == item:
                return ConfirmationInfo(item=c.item, user=c.user, at=c.created_at.timestamp(), note=c.note)
        return None
