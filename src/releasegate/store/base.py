"""What every part of the store shares: the engine, the clock, transactions, event appends.

The engine's hot path (step runs, status changes, events) writes through SQLAlchemy Core
on one pooled connection per transaction (:meth:`StoreBase._write_conn`), and every read
is a Core statement on the tables of :mod:`releasegate.store.schema`
(:meth:`StoreBase._read_conn`): the read commands never load SQLAlchemy's ORM. A few
writes use ORM sessions (:meth:`StoreBase._write`, importing the ORM on first use). Both
kinds of write append events the same way.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import Engine, bindparam, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError, StatementError

from releasegate.errors import StoreError
from releasegate.store.chain import envelope, hash_envelope
from releasegate.store.columns import JSONText
from releasegate.store.connection import WRITE_OPTION, store_error
from releasegate.store.records import EventRecord, JsonDict
from releasegate.store.schema import deployments as _DEPLOYMENTS
from releasegate.store.schema import event_chain_head as _HEAD
from releasegate.store.schema import events as _EVENTS
from releasegate.store.seals import SEALS_KEY

if TYPE_CHECKING:
    from pydantic import JsonValue
    from sqlalchemy.orm import Session

    from releasegate.store.tables import Base

R = TypeVar("R")
Row = TypeVar("Row", bound="Base")
# the data goes in as the canonical text it was hashed as: encoded once, stored verbatim
_INSERT_EVENT = insert(_EVENTS).values(data=bindparam("data", type_=JSONText()))
_READ_HEAD = (
    select(_HEAD.c.last_id, _HEAD.c.last_hash).where(_HEAD.c.id == 1).with_for_update()
)
# Moves the head from a known (last_id, last_hash) only: if anyone appended since, or the
# head was edited, no row matches and the appender reads the head under lock instead.
_ADVANCE_HEAD = (
    update(_HEAD)
    .where(
        _HEAD.c.id == 1,
        _HEAD.c.last_id == bindparam("expected_id"),
        _HEAD.c.last_hash == bindparam("expected_hash"),
    )
    .values(last_id=bindparam("new_id"), last_hash=bindparam("new_hash"), count=_HEAD.c.count + 1)
)
_DEPLOYMENT_EXISTS = select(_DEPLOYMENTS.c.id).where(
    _DEPLOYMENTS.c.id == bindparam("id")
)


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def to_record(cls: type[R], row: object) -> R:
    """Copy the fields a record declares from an ORM row, a Core result row or a dict."""
    get: Callable[[str], object]
    if isinstance(row, dict):
        get = row.get
    elif isinstance(mapping := getattr(row, "_mapping", None), Mapping):
        get = mapping.__getitem__  # a Core row: as a tuple, its .count and .index are methods
    else:
        get = lambda name: getattr(row, name)  # noqa: E731 - an ORM row
    values = {f.name: _utc(get(f.name)) for f in fields(cls)}  # type: ignore[arg-type]
    made: R = cls(**values)
    return made


def _utc(value: object) -> object:
    # rows just written still hold the datetimes the caller passed, in any zone
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def event_record(row: Any) -> EventRecord:
    """The record of an event row."""
    return to_record(EventRecord, row)


class StoreBase:
    """The engine and the transaction helpers the store's parts are built on."""

    def __init__(
        self, engine: Engine, url: str, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._engine = engine
        # connections are closed when the store is dropped, or at the latest at exit (a
        # SQLite WAL file is then checkpointed and removed, as after an explicit close)
        weakref.finalize(self, engine.dispose)
        self.url = url
        self._clock = clock or utc_now
        # the chain head as this store last wrote it: a guess, checked by _ADVANCE_HEAD
        self._head: tuple[int, str] | None = None

    def _now(self) -> datetime:
        return self._clock().astimezone(UTC)

    @property
    def sql_engine(self) -> Engine:
        """The SQLAlchemy engine, for read-only reports that compute in SQL (metrics)."""
        return self._engine

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    def close(self) -> None:
        """Release every connection."""
        self._engine.dispose()

    @contextmanager
    def _read_conn(self, *, snapshot: bool = False) -> Iterator[Connection]:
        """A Core read transaction; ``snapshot`` makes every statement see the same moment."""
        try:
            with self._engine.connect() as conn:
                if snapshot and conn.dialect.name == "postgresql":
                    conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    yield conn
        except SQLAlchemyError as exc:
            raise _translate(exc, "read", self.url) from exc

    @contextmanager
    def _read(self, *, snapshot: bool = False) -> Iterator[Session]:
        """A read transaction through an ORM session (the store's own reads use
        :meth:`_read_conn`); ``snapshot`` makes every statement see the same moment."""
        from sqlalchemy.orm import Session

        with self._read_conn(snapshot=snapshot) as conn, Session(
            bind=conn, expire_on_commit=False
        ) as session:
            yield session

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """A write transaction: BEGIN IMMEDIATE on SQLite, so writers queue instead of failing."""
        from sqlalchemy.orm import Session

        try:
            with self._engine.connect() as conn:
                conn.execution_options(**{WRITE_OPTION: True})
                with Session(bind=conn, expire_on_commit=False) as session, session.begin():
                    yield session
        except SQLAlchemyError as exc:
            raise _translate(exc, "write to", self.url) from exc

    @contextmanager
    def _write_conn(self, *, deployment_id: int | None = None) -> Iterator[Connection]:
        """A Core write transaction (BEGIN IMMEDIATE on SQLite), committed on exit.

        A foreign-key failure while ``deployment_id`` does not exist is reported as
        ``deployment N does not exist``: writes rely on the key instead of looking first.
        """
        try:
            with self._engine.connect() as conn:
                conn.execution_options(**{WRITE_OPTION: True})
                with conn.begin():
                    yield conn
        except IntegrityError as exc:
            if deployment_id is not None and not self._deployment_exists(deployment_id):
                raise StoreError(f"deployment {deployment_id} does not exist") from exc
            raise _translate(exc, "write to", self.url) from exc
        except SQLAlchemyError as exc:
            raise _translate(exc, "write to", self.url) from exc

    def _deployment_exists(self, id: int) -> bool:
        try:
            with self._engine.connect() as conn:
                return conn.execute(_DEPLOYMENT_EXISTS, {"id": id}).first() is not None
        except SQLAlchemyError as exc:
            raise _translate(exc, "read", self.url) from exc

    def _get(self, session: Session, model: type[Row], id: int, what: str) -> Row:
        row = session.get(model, id)
        if row is None:
            raise StoreError(f"{what} {id} does not exist")
        return row

    def _append(
        self,
        session: Session,
        type: str,
        data: JsonDict,
        *,
        deployment_id: int | None = None,
        seals: Sequence[JsonDict] = (),
    ) -> EventRecord:
        """Append an event inside the caller's ORM write transaction."""
        session.flush()
        return self._append_conn(
            session.connection(), type, data, deployment_id=deployment_id, seals=seals
        )

    def _append_conn(
        self,
        conn: Connection,
        type: str,
        data: JsonDict,
        *,
        deployment_id: int | None = None,
        seals: Sequence[JsonDict] = (),
    ) -> EventRecord:
        """Append an event, with the seals of the rows this transaction wrote."""
        content = {SEALS_KEY: cast("list[JsonValue]", list(seals)), **data} if seals else data
        return self._append_built(conn, type, lambda _id: content, deployment_id=deployment_id)

    def _append_built(
        self,
        conn: Connection,
        type: str,
        build: Callable[[int], JsonDict],
        *,
        deployment_id: int | None = None,
    ) -> EventRecord:
        """Append an event whose data depends on its own id (``build(id)``), e.g. a lease
        whose fencing token is that id; ``build`` may be called again if another writer
        appended first.

        Usually two statements: move the head from where this store last left it, insert
        the event. If another writer appended in between, the head is read under lock first.
        """
        at = self._now()
        at_iso = at.isoformat()
        type_json = json.dumps(type, ensure_ascii=False)
        guess = self._head
        if guess is not None:
            id, prev_hash = guess[0] + 1, guess[1]
            data, text, hash = _content(build, prev_hash, id, deployment_id, at_iso, type_json)
            moved = conn.execute(
                _ADVANCE_HEAD,
                {"expected_id": guess[0], "expected_hash": guess[1], "new_id": id, "new_hash": hash},
            )
            if moved.rowcount != 1:
                guess = None
        if guess is None:
            head = conn.execute(_READ_HEAD).first()
            if head is None:
                raise StoreError(f"the store at {self.url} has no event chain head: it is corrupt")
            id, prev_hash = head.last_id + 1, head.last_hash
            data, text, hash = _content(build, prev_hash, id, deployment_id, at_iso, type_json)
            conn.execute(
                _ADVANCE_HEAD,
                {"expected_id": head.last_id, "expected_hash": prev_hash, "new_id": id, "new_hash": hash},
            )
        conn.execute(
            _INSERT_EVENT,
            {
                "id": id,
                "deployment_id": deployment_id,
                "at": at,
                "type": type,
                "data": text,
                "prev_hash": prev_hash,
                "hash": hash,
            },
        )
        self._head = (id, hash)
        return EventRecord(
            id=id,
            deployment_id=deployment_id,
            at=at,
            type=type,
            data=data,
            prev_hash=prev_hash,
            hash=hash,
        )


def _content(
    build: Callable[[int], JsonDict],
    prev_hash: str,
    id: int,
    deployment_id: int | None,
    at_iso: str,
    type_json: str,
) -> tuple[JsonDict, str, str]:
    """The data of event ``id``, its canonical text (stored as is) and the event's hash."""
    data = build(id)
    try:
        text = json.dumps(
            data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise StoreError(f"event {json.loads(type_json)!r} has data that is not JSON: {exc}") from exc
    body = envelope(
        id=id, deployment_id=deployment_id, at_iso=at_iso, type_json=type_json, data_text=text
    )
    return data, text, hash_envelope(prev_hash, body)


def _translate(exc: SQLAlchemyError, action: str, url: str) -> Exception:
    # a bad value (a naive datetime) is the caller's mistake, not the store's
    if isinstance(exc, StatementError) and isinstance(exc.orig, ValueError | TypeError):
        return exc.orig
    return store_error(action, url, exc)
