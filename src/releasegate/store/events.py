"""The append-only, hash-chained event log."""

from __future__ import annotations

from sqlalchemy import select

from releasegate.store.base import StoreBase, event_record
from releasegate.store.chain import ChainChecker
from releasegate.store.records import AuditReport, EventRecord, JsonDict
from releasegate.store.tables import EventChainHeadRow, EventRow

_VERIFY_BATCH = 2000


class Events(StoreBase):
    """Appending, listing and verifying events."""

    def append_event(
        self, type: str, data: JsonDict, *, deployment_id: int | None = None
    ) -> EventRecord:
        """Append one event to the chain (serialised with every other writer)."""
        with self._write_conn(deployment_id=deployment_id) as conn:
            return self._append_conn(conn, type, data, deployment_id=deployment_id)

    def list_events(
        self, *, deployment_id: int | None = None, after_id: int = 0, limit: int | None = None
    ) -> list[EventRecord]:
        """Events in the order they were appended, optionally of one deployment."""
        query = select(EventRow).where(EventRow.id > after_id).order_by(EventRow.id)
        if deployment_id is not None:
            query = query.where(EventRow.deployment_id == deployment_id)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as session:
            return [event_record(row) for row in session.scalars(query)]

    def verify_chain(self) -> AuditReport:
        """Recompute every hash; name each edited or missing event, and a deleted tail."""
        checker = ChainChecker()
        columns = select(
            EventRow.id,
            EventRow.deployment_id,
            EventRow.at,
            EventRow.type,
            EventRow.data,
            EventRow.prev_hash,
            EventRow.hash,
        ).order_by(EventRow.id)
        # one read transaction, so the head and the events are one consistent snapshot
        with self._read(snapshot=True) as session:
            head = session.get(EventChainHeadRow, 1)
            result = session.execute(columns.execution_options(yield_per=_VERIFY_BATCH))
            for id, deployment_id, at, type, data, prev_hash, hash in result:
                checker.feed(
                    id=id,
                    deployment_id=deployment_id,
                    at=at,
                    type=type,
                    data=data,
                    prev_hash=prev_hash,
                    hash=hash,
                )
        if head is None:
            problems = [
                *checker.problems,
                "the chain head is missing (deleted outside releasegate)",
            ]
            return AuditReport(ok=False, checked=checker.checked, problems=problems)
        return checker.finish(head_last_id=head.last_id, head_last_hash=head.last_hash)
