"""Environment locks: one deployment per environment at a time, held as a lease.

Race-free across processes: on SQLite every lock operation runs in a ``BEGIN IMMEDIATE``
transaction (one writer at a time); on PostgreSQL it first takes a transaction-scoped
advisory lock keyed on the environment, so the read-decide-write below is never interleaved.
Locks are taken in one order — the advisory lock, the lease row, the chain head (every
append comes last) — so lease operations, fenced writes and status writes cannot
deadlock on PostgreSQL.

Every lease carries a fencing token: the id of the ``lock.acquired``/``lock.taken_over``
event that granted it. Event ids only grow, so a later lease always has a larger token,
and a holder that presents its token to :meth:`Locks.heartbeat` learns at once that its
lease was taken over, even by a process resuming the same deployment.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.engine import Connection, Row

from releasegate.errors import LockedError
from releasegate.store import schema
from releasegate.store.base import StoreBase, to_record
from releasegate.store.records import JsonDict, LockRecord
from releasegate.store.seals import SEALS_KEY, deleted, seal

_PG_LOCK_NAMESPACE = 0x72676C6B  # "rglk": keeps our advisory locks apart from anyone else's
_LOCKS = schema.locks
_DEPLOYMENTS = schema.deployments
_READ_LOCK = select(_LOCKS).where(_LOCKS.c.environment == bindparam("environment"))
# a writer about to change the lease locks its row before it appends (see the docstring)
_READ_LOCK_FOR_UPDATE = _READ_LOCK.with_for_update()
# a fenced write holds the lease row shared until it commits: a takeover waits for it
_FENCE = (
    select(_LOCKS.c.environment, _LOCKS.c.deployment_id)
    .where(_LOCKS.c.token == bindparam("token"))
    .with_for_update(read=True)
)
_VERSION_OF = select(_DEPLOYMENTS.c.version).where(_DEPLOYMENTS.c.id == bindparam("id"))
_SERIALISE = text("SELECT pg_advisory_xact_lock(:ns, hashtext(:key))")


def _clock_time(at: datetime, now: datetime) -> str:
    return at.strftime("%H:%M UTC" if at.date() == now.date() else "%Y-%m-%d %H:%M UTC")


class Locks(StoreBase):
    """Acquiring, renewing, taking over and releasing environment leases."""

    def _serialise_conn(self, conn: Connection, environment: str) -> None:
        if self.dialect == "postgresql":
            conn.execute(_SERIALISE, {"ns": _PG_LOCK_NAMESPACE, "key": environment})

    def _lock_row(
        self, conn: Connection, environment: str, *, for_update: bool = False
    ) -> Row[Any] | None:
        query = _READ_LOCK_FOR_UPDATE if for_update else _READ_LOCK
        return conn.execute(query, {"environment": environment}).first()

    def _fence(self, conn: Connection, token: int, deployment_id: int | None, what: str) -> None:
        """Refuse the write (LockedError) unless the lease granted with ``token`` is still
        held (by ``deployment_id``, when given); the lease then stays until this commits."""
        held = conn.execute(_FENCE, {"token": token}).first()
        if held is None or (deployment_id is not None and held.deployment_id != deployment_id):
            who = "a deployment" if deployment_id is None else f"deployment {deployment_id}"
            raise LockedError(
                f"{who} no longer holds the lease granted with token {token}: {what} not recorded"
            )

    def _held_by(self, conn: Connection, row: Row[Any], now: datetime) -> str:
        version = conn.execute(_VERSION_OF, {"id": row.deployment_id}).scalar()
        return (
            f"deployment {row.deployment_id} ({version or 'unknown version'}, started by "
            f"{row.holder} at {_clock_time(row.acquired_at, now)})"
        )

    def _grant(
        self,
        conn: Connection,
        environment: str,
        *,
        deployment_id: int,
        holder: str,
        ttl_s: float,
        previous: Row[Any] | None,
    ) -> LockRecord:
        """Give the lease to ``deployment_id`` (taking it over from ``previous``, if any)."""
        now = self._now()
        values: dict[str, Any] = {
            "environment": environment,
            "deployment_id": deployment_id,
            "holder": holder,
            "acquired_at": now,
            "heartbeat_at": now,
            "expires_at": now + timedelta(seconds=ttl_s),
            "token": 0,
        }
        data: JsonDict = {"environment": environment, "holder": holder}
        if previous is not None:
            data |= {
                "previous_deployment_id": previous.deployment_id,
                "previous_holder": previous.holder,
                "previous_expires_at": previous.expires_at.isoformat(),
                "previous_token": previous.token,
            }

        def build(event_id: int) -> JsonDict:
            values["token"] = event_id
            return {SEALS_KEY: [seal("locks", values)], **data, "token": event_id}

        kind = "lock.acquired" if previous is None else "lock.taken_over"
        event = self._append_built(conn, kind, build, deployment_id=deployment_id)
        values["token"] = event.id
        if previous is None:
            conn.execute(insert(_LOCKS), values)
        else:
            conn.execute(update(_LOCKS).where(_LOCKS.c.environment == environment), values)
        return LockRecord(**values)

    def _delete_lease(
        self, conn: Connection, environment: str, *, deployment_id: int, token: int | None = None
    ) -> bool:
        """Delete the lease if ``deployment_id`` (with ``token``) holds it; the caller has
        serialised on ``environment`` and appends ``lock.released`` (:meth:`_released`)."""
        query = delete(_LOCKS).where(
            _LOCKS.c.environment == environment, _LOCKS.c.deployment_id == deployment_id
        )
        if token is not None:
            query = query.where(_LOCKS.c.token == token)
        return bool(conn.execute(query).rowcount == 1)

    def _released(self, conn: Connection, environment: str, *, deployment_id: int) -> None:
        self._append_conn(
            conn,
            "lock.released",
            {"environment": environment},
            deployment_id=deployment_id,
            seals=[deleted("locks", environment)],
        )

    def _claim(
        self, environment: str, *, deployment_id: int, holder: str, ttl_s: float, reentrant: bool
    ) -> LockRecord:
        with self._write_conn(deployment_id=deployment_id) as conn:
            self._serialise_conn(conn, environment)
            row = self._lock_row(conn, environment, for_update=True)
            now = self._now()
            free = row is None or row.expires_at < now
            if not free and not (
                reentrant and row is not None and row.deployment_id == deployment_id
            ):
                assert row is not None
                raise LockedError(f"{environment} is locked by {self._held_by(conn, row, now)}")
            return self._grant(
                conn,
                environment,
                deployment_id=deployment_id,
                holder=holder,
                ttl_s=ttl_s,
                previous=row,
            )

    def acquire_lock(
        self, environment: str, *, deployment_id: int, holder: str, ttl_s: float
    ) -> LockRecord:
        """Take the lease on ``environment`` for ``ttl_s`` seconds; an expired lease is taken over.

        Raises :class:`LockedError` naming the holder if a live lease exists (even one held
        by the same deployment: use :meth:`take_over_lock` to resume).
        """
        return self._claim(
            environment, deployment_id=deployment_id, holder=holder, ttl_s=ttl_s, reentrant=False
        )

    def take_over_lock(
        self, environment: str, *, deployment_id: int, holder: str, ttl_s: float
    ) -> LockRecord:
        """Take the lease if it is free, expired, or already held by this deployment (resume).

        The lease returned carries a new fencing token (``LockRecord.token``): the previous
        holder's token no longer renews it.
        """
        return self._claim(
            environment, deployment_id=deployment_id, holder=holder, ttl_s=ttl_s, reentrant=True
        )

    def heartbeat(
        self,
        environment: str,
        *,
        deployment_id: int,
        ttl_s: float,
        holder: str | None = None,
        token: int | None = None,
    ) -> None:
        """Extend this deployment's lease; raises :class:`LockedError` if it was lost.

        With ``holder`` or ``token`` (the fencing token of the lease this process was
        granted) it is also lost when another process took the same deployment over.
        """
        with self._write_conn() as conn:
            self._serialise_conn(conn, environment)
            now = self._now()
            query = update(_LOCKS).where(
                _LOCKS.c.environment == environment, _LOCKS.c.deployment_id == deployment_id
            )
            if holder is not None:
                query = query.where(_LOCKS.c.holder == holder)
            if token is not None:
                query = query.where(_LOCKS.c.token == token)
            renewed = conn.execute(
                query.values(heartbeat_at=now, expires_at=now + timedelta(seconds=ttl_s))
            )
            if renewed.rowcount == 1:
                return
            row = self._lock_row(conn, environment)
            lost = f"deployment {deployment_id} lost the lock on {environment}"
            if row is None:
                raise LockedError(f"{lost}: nobody holds it now")
            if token is not None and row.deployment_id == deployment_id:
                raise LockedError(
                    f"{lost}: its lease (token {token}) was taken over by {row.holder} "
                    f"(token {row.token})"
                )
            raise LockedError(f"{lost}: it is now held by {self._held_by(conn, row, now)}")

    def release_lock(
        self, environment: str, *, deployment_id: int, token: int | None = None
    ) -> None:
        """Give the lease back; does nothing if this deployment (with ``token``, if given)
        does not hold it."""
        with self._write_conn() as conn:
            self._serialise_conn(conn, environment)
            if self._delete_lease(conn, environment, deployment_id=deployment_id, token=token):
                self._released(conn, environment, deployment_id=deployment_id)

    def get_lock(self, environment: str) -> LockRecord | None:
        """The lease on ``environment``, if any (it may have expired: see ``expired()``)."""
        with self._read_conn() as conn:
            row = conn.execute(select(_LOCKS).where(_LOCKS.c.environment == environment)).first()
            return None if row is None else to_record(LockRecord, row)
