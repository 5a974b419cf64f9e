"""Incidents and the obligations a deployment leaves behind (monitoring, postmortems)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from releasegate.errors import StoreError
from releasegate.store import schema
from releasegate.store.base import StoreBase, to_record
from releasegate.store.records import OBLIGATION_KINDS, IncidentRecord, ObligationRecord
from releasegate.store.seals import seal_row

_INCIDENTS = schema.incidents
_OBLIGATIONS = schema.obligations


class Incidents(StoreBase):
    """Incidents and obligations."""

    def open_incident(
        self,
        *,
        title: str,
        severity: str,
        impact: float,
        environment: str | None,
        user: str,
        action: str,
        deadline: datetime | None,
    ) -> IncidentRecord:
        """Record an incident with the action the decision matrix chose and its deadline."""
        from releasegate.store.tables import IncidentRow

        with self._write() as session:
            row = IncidentRow(
                title=title,
                severity=severity,
                impact=impact,
                environment=environment,
                action=action,
                deadline=deadline,
                opened_by=user,
                opened_at=self._now(),
            )
            session.add(row)
            session.flush()
            self._append(
                session,
                "incident.opened",
                {
                    "incident_id": row.id,
                    "title": title,
                    "severity": severity,
                    "impact": impact,
                    "environment": environment,
                    "user": user,
                    "action": action,
                    "deadline": None if deadline is None else deadline.isoformat(),
                },
                seals=[seal_row(row)],
            )
            return to_record(IncidentRecord, row)

    def close_incident(self, id: int, *, user: str, note: str | None = None) -> IncidentRecord:
        """Close an open incident."""
        from releasegate.store.tables import IncidentRow

        with self._write() as session:
            row = self._get(session, IncidentRow, id, "incident")
            if row.closed_at is not None:
                raise StoreError(f"incident {id} was already closed by {row.closed_by}")
            row.closed_at, row.closed_by, row.close_note = self._now(), user, note
            session.flush()
            self._append(
                session, "incident.closed", {"incident_id": id, "user": user, "note": note},
                seals=[seal_row(row)],
            )
            return to_record(IncidentRecord, row)

    def list_incidents(self, *, include_closed: bool = False) -> list[IncidentRecord]:
        """Incidents, oldest first; only the open ones unless ``include_closed``."""
        query = select(_INCIDENTS).order_by(_INCIDENTS.c.id)
        if not include_closed:
            query = query.where(_INCIDENTS.c.closed_at.is_(None))
        with self._read_conn() as conn:
            return [to_record(IncidentRecord, row) for row in conn.execute(query)]

    def add_obligation(
        self, *, deployment_id: int, kind: str, text: str, due_at: datetime
    ) -> ObligationRecord:
        """Record something owed after a deployment (``monitor`` or ``postmortem``)."""
        if kind not in OBLIGATION_KINDS:
            raise ValueError(f"{kind!r} is not an obligation kind ({', '.join(OBLIGATION_KINDS)})")
        from releasegate.store.tables import DeploymentRow, ObligationRow

        with self._write() as session:
            self._get(session, DeploymentRow, deployment_id, "deployment")
            row = ObligationRow(
                deployment_id=deployment_id,
                kind=kind,
                text=text,
                due_at=due_at,
                created_at=self._now(),
            )
            session.add(row)
            session.flush()
            self._append(
                session,
                "obligation.opened",
                {"obligation_id": row.id, "kind": kind, "text": text, "due_at": due_at.isoformat()},
                deployment_id=deployment_id,
                seals=[seal_row(row)],
            )
            return to_record(ObligationRecord, row)

    def close_obligation(self, id: int, *, user: str, note: str | None = None) -> ObligationRecord:
        """Mark an obligation as met."""
        from releasegate.store.tables import ObligationRow

        with self._write() as session:
            row = self._get(session, ObligationRow, id, "obligation")
            if row.closed_at is not None:
                raise StoreError(f"obligation {id} was already closed by {row.closed_by}")
            row.closed_at, row.closed_by, row.close_note = self._now(), user, note
            session.flush()
            self._append(
                session,
                "obligation.closed",
                {"obligation_id": id, "user": user, "note": note},
                deployment_id=row.deployment_id,
                seals=[seal_row(row)],
            )
            return to_record(ObligationRecord, row)

    def list_obligations(self, *, open_only: bool = True) -> list[ObligationRecord]:
        """Obligations, soonest due first."""
        query = select(_OBLIGATIONS).order_by(_OBLIGATIONS.c.due_at, _OBLIGATIONS.c.id)
        if open_only:
            query = query.where(_OBLIGATIONS.c.closed_at.is_(None))
        with self._read_conn() as conn:
            return [to_record(ObligationRecord, row) for row in conn.execute(query)]
