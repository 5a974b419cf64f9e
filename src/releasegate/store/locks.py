"""Environment locks: one deployment per environment at a time, held as a lease.

Race-free across processes: on SQLite every lock operation runs in a ``BEGIN IMMEDIATE``
transaction (one writer at a time); on PostgreSQL it first takes a transaction-scoped
advisory lock keyed on the environment, so the read-decide-write below is never interleaved.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from releasegate.errors import LockedError
from releasegate.store.base import StoreBase, to_record
from releasegate.store.records import JsonDict, LockRecord
from releasegate.store.tables import DeploymentRow, LockRow

_PG_LOCK_NAMESPACE = 0x72676C6B  # "rglk": keeps our advisory locks apart from anyone else's


def _lock(row: LockRow) -> LockRecord:
    return to_record(LockRecord, row)


def _clock_time(at: datetime, now: datetime) -> str:
    return at.strftime("%H:%M UTC" if at.date() == now.date() else "%Y-%m-%d %H:%M UTC")


class Locks(StoreBase):
    """Acquiring, renewing, taking over and releasing environment leases."""

    def _serialise(self, session: Session, environment: str) -> None:
        if self.dialect == "postgresql":
            session.execute(
                text("SELECT pg_advisory_xact_lock(:ns, hashtext(:env))"),
                {"ns": _PG_LOCK_NAMESPACE, "env": environment},
            )

    def _held_by(self, session: Session, row: LockRow, now: datetime) -> str:
        deployment = session.get(DeploymentRow, row.deployment_id)
        version = deployment.version if deployment is not None else "unknown version"
        return (
            f"deployment {row.deployment_id} ({version}, started by {row.holder} "
            f"at {_clock_time(row.acquired_at, now)})"
        )

    def _claim(
        self, environment: str, *, deployment_id: int, holder: str, ttl_s: float, reentrant: bool
    ) -> LockRecord:
        with self._write() as session:
            self._serialise(session, environment)
            self._get(session, DeploymentRow, deployment_id, "deployment")
            now = self._now()
            expires = now + timedelta(seconds=ttl_s)
            row = session.get(LockRow, environment, populate_existing=True)
            data: JsonDict = {"environment": environment, "holder": holder}
            if row is None:
                row = LockRow(
                    environment=environment,
                    deployment_id=deployment_id,
                    holder=holder,
                    acquired_at=now,
                    heartbeat_at=now,
                    expires_at=expires,
                )
                session.add(row)
                event = "lock.acquired"
            elif row.expires_at < now or (reentrant and row.deployment_id == deployment_id):
                data |= {
                    "previous_deployment_id": row.deployment_id,
                    "previous_holder": row.holder,
                    "previous_expires_at": row.expires_at.isoformat(),
                }
                event = "lock.taken_over"
                row.deployment_id, row.holder = deployment_id, holder
                row.acquired_at = row.heartbeat_at = now
                row.expires_at = expires
            else:
                raise LockedError(f"{environment} is locked by {self._held_by(session, row, now)}")
            session.flush()
            self._append(session, event, data, deployment_id=deployment_id)
            return _lock(row)

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
        """Take the lease if it is free, expired, or already held by this deployment (resume)."""
        return self._claim(
            environment, deployment_id=deployment_id, holder=holder, ttl_s=ttl_s, reentrant=True
        )

    def heartbeat(
        self, environment: str, *, deployment_id: int, ttl_s: float, holder: str | None = None
    ) -> None:
        """Extend this deployment's lease; raises :class:`LockedError` if it was lost (with
        ``holder``: also when another process took the same deployment over)."""
        with self._write() as session:
            self._serialise(session, environment)
            now = self._now()
            row = session.get(LockRow, environment, populate_existing=True)
            if row is None:
                raise LockedError(
                    f"deployment {deployment_id} lost the lock on {environment}: "
                    "nobody holds it now"
                )
            if row.deployment_id != deployment_id or (holder is not None and row.holder != holder):
                raise LockedError(
                    f"deployment {deployment_id} lost the lock on {environment}: it is now "
                    f"held by {self._held_by(session, row, now)}"
                )
            row.heartbeat_at = now
            row.expires_at = now + timedelta(seconds=ttl_s)

    def release_lock(self, environment: str, *, deployment_id: int) -> None:
        """Give the lease back; does nothing if this deployment does not hold it."""
        with self._write() as session:
            self._serialise(session, environment)
            row = session.get(LockRow, environment, populate_existing=True)
            if row is None or row.deployment_id != deployment_id:
                return
            session.delete(row)
            session.flush()
            self._append(
                session,
                "lock.released",
                {"environment": environment},
                deployment_id=deployment_id,
            )

    def get_lock(self, environment: str) -> LockRecord | None:
        """The lease on ``environment``, if any (it may have expired: see ``expired()``)."""
        with self._read() as session:
            row = session.get(LockRow, environment)
            return None if row is None else _lock(row)
