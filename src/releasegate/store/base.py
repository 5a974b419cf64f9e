"""What every part of the store shares: the engine, the clock, transactions, event appends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError, StatementError
from sqlalchemy.orm import Session

from releasegate.errors import StoreError
from releasegate.store.chain import event_hash
from releasegate.store.connection import WRITE_OPTION, store_error
from releasegate.store.records import EventRecord, JsonDict
from releasegate.store.tables import Base, EventChainHeadRow, EventRow

R = TypeVar("R")
Row = TypeVar("Row", bound=Base)


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def to_record(cls: type[R], row: object) -> R:
    """Copy the fields a record declares from an ORM row."""
    values = {f.name: _utc(getattr(row, f.name)) for f in fields(cls)}  # type: ignore[arg-type]
    made: R = cls(**values)
    return made


def _utc(value: object) -> object:
    # rows just written still hold the datetimes the caller passed, in any zone
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def event_record(row: EventRow) -> EventRecord:
    """The record of an event row."""
    return to_record(EventRecord, row)


class StoreBase:
    """The engine and the transaction helpers the store's parts are built on."""

    def __init__(
        self, engine: Engine, url: str, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._engine = engine
        self.url = url
        self._clock = clock or utc_now

    def _now(self) -> datetime:
        return self._clock().astimezone(UTC)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    def close(self) -> None:
        """Release every connection."""
        self._engine.dispose()

    @contextmanager
    def _read(self, *, snapshot: bool = False) -> Iterator[Session]:
        """A read transaction; ``snapshot`` makes every statement see the same moment."""
        try:
            with self._engine.connect() as conn:
                if snapshot and conn.dialect.name == "postgresql":
                    conn.execution_options(isolation_level="REPEATABLE READ")
                with Session(bind=conn, expire_on_commit=False) as session, session.begin():
                    yield session
        except SQLAlchemyError as exc:
            raise _translate(exc, "read", self.url) from exc

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """A write transaction: BEGIN IMMEDIATE on SQLite, so writers queue instead of failing."""
        try:
            with self._engine.connect() as conn:
                conn.execution_options(**{WRITE_OPTION: True})
                with Session(bind=conn, expire_on_commit=False) as session, session.begin():
                    yield session
        except SQLAlchemyError as exc:
            raise _translate(exc, "write to", self.url) from exc

    def _get(self, session: Session, model: type[Row], id: int, what: str) -> Row:
        row = session.get(model, id)
        if row is None:
            raise StoreError(f"{what} {id} does not exist")
        return row

    def _append(
        self, session: Session, type: str, data: JsonDict, *, deployment_id: int | None = None
    ) -> EventRecord:
        """Append an event inside the caller's write transaction (serialised on the head row)."""
        head = session.get(EventChainHeadRow, 1, with_for_update=True)
        if head is None:
            raise StoreError(f"the store at {self.url} has no event chain head: it is corrupt")
        id = head.last_id + 1
        at = self._now()
        try:
            hash = event_hash(
                head.last_hash, id=id, deployment_id=deployment_id, at=at, type=type, data=data
            )
        except (TypeError, ValueError) as exc:
            raise StoreError(f"event {type!r} has data that is not JSON: {exc}") from exc
        row = EventRow(
            id=id,
            deployment_id=deployment_id,
            at=at,
            type=type,
            data=data,
            prev_hash=head.last_hash,
            hash=hash,
        )
        session.add(row)
        head.last_id, head.last_hash, head.count = id, hash, head.count + 1
        session.flush()
        return event_record(row)


def _translate(exc: SQLAlchemyError, action: str, url: str) -> Exception:
    # a bad value (a naive datetime) is the caller's mistake, not the store's
    if isinstance(exc, StatementError) and isinstance(exc.orig, ValueError | TypeError):
        return exc.orig
    return store_error(action, url, exc)
