"""The store-backed :class:`~releasegate.drivers.api.Facts` a driver sees while it runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from releasegate.config.models import Config
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


class DeploymentRecords:
    """The :class:`~releasegate.drivers.api.Records` of one running deployment."""

    def __init__(self, config: Config, store: Store, deployment_id: int, workdir: Path) -> None:
        self._config, self._store = config, store
        self._deployment_id, self._workdir = deployment_id, workdir

    def receiver(self, name: str) -> str | None:
        for route in self._config.notify:
            if route.name == name:
                return route.url
        return None

    def announcement(self) -> str:
        from releasegate.drivers.notifiers.messages import load_template
        from releasegate.metrics.announcement import announcement_facts, render_announcement

        settings = self._config.announcement
        dep = self._store.get_deployment(self._deployment_id)
        env = self._config.environments.get(dep.environment) if dep else None
        links = {"Service": env.url} if env is not None and env.url else {}
        links.update(settings.links)
        template = load_template(self._workdir / settings.template) if settings.template else None
        with self._store.sql_engine.connect() as conn:
            facts = announcement_facts(conn, self._deployment_id, links=links)
        if facts.status == "running":  # a post step announces what has just gone live
            now = datetime.now(UTC)
            started = dep.started_at if dep is not None else None
            if started is not None and started.tzinfo is None:
                started = started.replace(tzinfo=UTC)  # SQLite keeps UTC without an offset
            facts = replace(facts, status="succeeded", deployed_at=now,
                            duration_s=(now - started).total_seconds() if started else None)
        return render_announcement(facts, template)
