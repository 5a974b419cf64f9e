"""Recorded freezes and campaigns (the calendars in the config are policy's business)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from releasegate.errors import StoreError
from releasegate.store import schema
from releasegate.store.base import StoreBase, to_record
from releasegate.store.records import CampaignRecord, FreezeRecord
from releasegate.store.seals import seal_row

_FREEZES = schema.freezes
_CAMPAIGNS = schema.campaigns


class Calendars(StoreBase):
    """Freezes and campaigns."""

    def add_freeze(
        self,
        *,
        environment: str | None,
        start: datetime,
        end: datetime,
        reason: str,
        hard: bool,
        user: str,
    ) -> FreezeRecord:
        """Freeze deployments to ``environment`` (all, if None) from ``start`` to ``end``."""
        if end <= start:
            raise ValueError(
                f"a freeze must end after it starts ({start.isoformat()} .. {end.isoformat()})"
            )
        from releasegate.store.tables import FreezeRow

        with self._write() as session:
            row = FreezeRow(
                environment=environment,
                start=start,
                end=end,
                reason=reason,
                hard=hard,
                created_by=user,
                created_at=self._now(),
            )
            session.add(row)
            session.flush()
            self._append(
                session,
                "freeze.added",
                {
                    "freeze_id": row.id,
                    "environment": environment,
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "reason": reason,
                    "hard": hard,
                    "user": user,
                },
                seals=[seal_row(row)],
            )
            return to_record(FreezeRecord, row)

    def remove_freeze(self, id: int, *, user: str) -> None:
        """Lift a freeze (it stays on record as removed by ``user``)."""
        from releasegate.store.tables import FreezeRow

        with self._write() as session:
            row = self._get(session, FreezeRow, id, "freeze")
            if row.removed_at is not None:
                raise StoreError(f"freeze {id} was already removed by {row.removed_by}")
            row.removed_at, row.removed_by = self._now(), user
            session.flush()
            self._append(
                session, "freeze.removed", {"freeze_id": id, "user": user}, seals=[seal_row(row)]
            )

    def list_freezes(self) -> list[FreezeRecord]:
        """The freezes in force or to come (removed ones left out), by start."""
        query = (
            select(_FREEZES)
            .where(_FREEZES.c.removed_at.is_(None))
            .order_by(_FREEZES.c.start, _FREEZES.c.id)
        )
        with self._read_conn() as conn:
            return [to_record(FreezeRecord, row) for row in conn.execute(query)]

    def add_campaign(
        self, *, name: str, at: datetime, buffer_s: float, environment: str | None, user: str
    ) -> CampaignRecord:
        """Record a campaign; deployments keep ``buffer_s`` seconds away from ``at``."""
        if buffer_s < 0:
            raise ValueError(f"campaign buffer must not be negative (got {buffer_s})")
        from releasegate.store.tables import CampaignRow

        with self._write() as session:
            row = CampaignRow(
                name=name,
                at=at,
                buffer_s=buffer_s,
                environment=environment,
                created_by=user,
                created_at=self._now(),
            )
            session.add(row)
            session.flush()
            self._append(
                session,
                "campaign.added",
                {
                    "campaign_id": row.id,
                    "name": name,
                    "at": at.isoformat(),
                    "buffer_s": buffer_s,
                    "environment": environment,
                    "user": user,
                },
                seals=[seal_row(row)],
            )
            return to_record(CampaignRecord, row)

    def list_campaigns(self) -> list[CampaignRecord]:
        """Every recorded campaign, by time."""
        query = select(_CAMPAIGNS).order_by(_CAMPAIGNS.c.at, _CAMPAIGNS.c.id)
        with self._read_conn() as conn:
            return [to_record(CampaignRecord, row) for row in conn.execute(query)]
