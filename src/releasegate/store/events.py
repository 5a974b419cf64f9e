"""The append-only, hash-chained event log: appending, reading, counting, verifying."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from releasegate.store import schema
from releasegate.store.base import StoreBase, _translate, event_record
from releasegate.store.integrity import Fetch, verify
from releasegate.store.records import Anchor, AuditReport, ChainHead, EventRecord, JsonDict
from releasegate.store.seals import SEALS_KEY

_EVENTS = schema.events
_EVENT_CHAIN_HEAD = schema.event_chain_head

_FETCH_BATCH = 5000


class Events(StoreBase):
    """Appending, listing and verifying events."""

    def append_event(
        self, type: str, data: JsonDict, *, deployment_id: int | None = None
    ) -> EventRecord:
        """Append one event to the chain (serialised with every other writer)."""
        if SEALS_KEY in data:
            raise ValueError(f"{SEALS_KEY!r} in event data is the store's own: seals are not given")
        with self._write_conn(deployment_id=deployment_id) as conn:
            return self._append_conn(conn, type, data, deployment_id=deployment_id)

    def list_events(
        self,
        *,
        deployment_id: int | None = None,
        after_id: int = 0,
        limit: int | None = None,
        types: tuple[str, ...] | None = None,
    ) -> list[EventRecord]:
        """Events in the order they were appended, optionally of one deployment and of
        some ``types`` only."""
        query = select(_EVENTS).where(_EVENTS.c.id > after_id).order_by(_EVENTS.c.id)
        if deployment_id is not None:
            query = query.where(_EVENTS.c.deployment_id == deployment_id)
        if types is not None:
            query = query.where(_EVENTS.c.type.in_(types))
        if limit is not None:
            query = query.limit(limit)
        with self._read_conn() as conn:
            return [event_record(row) for row in conn.execute(query)]

    def count_events(self, deployment_id: int | None = None) -> int:
        """How many events the log holds (of one deployment, if given): an index count."""
        query = select(func.count()).select_from(_EVENTS)
        if deployment_id is not None:
            query = query.where(_EVENTS.c.deployment_id == deployment_id)
        with self._read_conn() as conn:
            return int(conn.execute(query).scalar_one())

    def chain_head(self) -> ChainHead:
        """The newest event's id, hash and time: what an anchor writes outside the database."""
        query = (
            select(_EVENT_CHAIN_HEAD.c.last_id, _EVENT_CHAIN_HEAD.c.last_hash, _EVENTS.c.at)
            .outerjoin(_EVENTS, _EVENTS.c.id == _EVENT_CHAIN_HEAD.c.last_id)
            .where(_EVENT_CHAIN_HEAD.c.id == 1)
        )
        with self._read_conn() as conn:
            row = conn.execute(query).one()
        return ChainHead(event_id=row.last_id, hash=row.last_hash, at=row.at)

    def verify_chain(self, anchors: Iterable[Anchor] = ()) -> AuditReport:
        """Recompute every hash and every seal; name each problem.

        Reported: an edited or missing event, a deleted tail; a sealed row inserted, edited
        or deleted outside releasegate (``deployments row 3 was edited: status``); and for
        each of ``anchors`` (chain heads kept outside the database), a log that no longer
        reaches it or an event that differs from it.
        """
        try:
            with self._engine.connect() as conn:
                if conn.dialect.name == "postgresql":
                    # one snapshot: the events, the head and the rows seen at the same moment
                    conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    quote = conn.dialect.identifier_preparer.quote
                    return verify(_fetcher(conn), self.dialect, quote, anchors)
        except SQLAlchemyError as exc:
            raise _translate(exc, "read", self.url) from exc


def _fetcher(conn: Connection) -> Fetch:
    raw = conn.connection.dbapi_connection
    postgres = conn.dialect.name == "postgresql"
    counter = iter(range(1_000_000))

    def fetch(sql: str) -> Iterator[Sequence[Sequence[Any]]]:
        assert raw is not None
        # a server-side cursor on PostgreSQL: a million events are not loaded at once
        cursor = cast(Any, raw).cursor(f"rg_verify_{next(counter)}") if postgres else raw.cursor()
        try:
            cursor.execute(sql)
            while batch := cursor.fetchmany(_FETCH_BATCH):
                yield batch
        finally:
            cursor.close()

    return fetch
