"""Deployments (with the lease they run under) and the release catalogue.

Written with SQLAlchemy Core: no ORM unit of work, no look-up before an insert where a key
answers. Each write seals the deployment row in the event it appends.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, String, bindparam, insert, select, type_coerce, update
from sqlalchemy.engine import Connection, Row

from releasegate.errors import LockedError, StoreError
from releasegate.store import schema
from releasegate.store.base import StoreBase, to_record
from releasegate.store.locks import Locks
from releasegate.store.records import (
    DEPLOYMENT_STATUSES,
    FINAL_STATUSES,
    VIAS,
    DeploymentListing,
    DeploymentRecord,
    DeploymentSummary,
    JsonDict,
    LockRecord,
    ReleaseRecord,
)
from releasegate.store.seals import seal

KINDS = ("normal", "major", "hotfix", "rollback")
_TIMES = ("created_at", "started_at", "finished_at")


@lru_cache(maxsize=8)
def _listing_query(sqlite: bool, by_env: bool, by_status: bool) -> Select[Any]:
    """The page's SELECT, built once per shape (building and keying a statement costs
    about as much as running it)."""
    d = _DEPLOYMENTS.c
    columns = [
        # SQLite keeps naive UTC text: read as it is, not parsed into a datetime
        type_coerce(d[name], String()).label(name) if sqlite and name in _TIMES else d[name]
        for name in DeploymentListing._fields
    ]
    query = select(*columns).order_by(d.id.desc())
    if by_env:
        query = query.where(d.environment == bindparam("env"))
    if by_status:
        query = query.where(d.status == bindparam("status"))
    return query.offset(bindparam("offset")).limit(bindparam("limit"))


def _sqlite_iso(text: str | None) -> str | None:
    """``2026-11-30 02:54:36.388767`` (SQLite's naive UTC) → ISO 8601 with its offset."""
    return None if text is None else text.replace(" ", "T", 1) + "+00:00"


def _aware_iso(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat()

_DEPLOYMENTS = schema.deployments
_RELEASES = schema.releases
_INSERT_DEPLOYMENT = insert(_DEPLOYMENTS).returning(_DEPLOYMENTS.c.id)
_EXISTS = select(_DEPLOYMENTS.c.id).where(_DEPLOYMENTS.c.id == bindparam("id"))
_LOCK_DEPLOYMENT = (
    select(_DEPLOYMENTS.c.status, _DEPLOYMENTS.c.started_at, _DEPLOYMENTS.c.environment)
    .where(_DEPLOYMENTS.c.id == bindparam("id"))
    .with_for_update(key_share=True)  # FOR NO KEY UPDATE: the lock the UPDATE takes anyway
)
_SET_COMMIT = (
    update(_RELEASES)
    .where(
        _RELEASES.c.environment == bindparam("env"),
        _RELEASES.c.version == bindparam("ver"),
        _RELEASES.c.commit.is_(None),
    )
    .values(commit=bindparam("new_commit"))
)


def _deployment(row: Row[Any]) -> DeploymentRecord:
    return to_record(DeploymentRecord, row)


def check_via(via: str | None) -> None:
    """Refuse a ``via`` that is not one of :data:`~releasegate.store.records.VIAS`."""
    if via is not None and via not in VIAS:
        raise ValueError(f"{via!r} is not a way of establishing identity ({', '.join(VIAS)})")


class Deployments(Locks, StoreBase):
    """Deployments, their leases, and the release catalogue."""

    def create_deployment(
        self,
        *,
        environment: str,
        version: str,
        kind: str,
        user: str,
        plan: JsonDict,
        reason: str | None = None,
        emergency: bool = False,
        commit: str | None = None,
        rollback_of: int | None = None,
        os_user: str | None = None,
        via: str | None = None,
    ) -> DeploymentRecord:
        """Record a new deployment (status ``pending``) and its version in the catalogue."""
        values = self._new_deployment(locals())
        with self._write_conn() as conn:
            return self._insert_deployment(conn, values)

    def start_deployment(
        self,
        *,
        environment: str,
        version: str,
        kind: str,
        user: str,
        plan: JsonDict,
        holder: str,
        ttl_s: float,
        reason: str | None = None,
        emergency: bool = False,
        commit: str | None = None,
        rollback_of: int | None = None,
        os_user: str | None = None,
        via: str | None = None,
    ) -> tuple[DeploymentRecord, LockRecord]:
        """Record a new deployment (``pending``) and give it the environment's lease, in one
        transaction.

        Raises :class:`LockedError` naming the holder if another deployment holds a live
        lease; then nothing is recorded. An expired lease is taken over (the event names
        the previous holder and token).
        """
        values = self._new_deployment(locals())
        with self._write_conn() as conn:
            self._serialise_conn(conn, environment)
            current = self._lock_row(conn, environment, for_update=True)
            now = self._now()
            if current is not None and current.expires_at >= now:
                raise LockedError(f"{environment} is locked by {self._held_by(conn, current, now)}")
            record = self._insert_deployment(conn, values)
            lock = self._grant(
                conn,
                environment,
                deployment_id=record.id,
                holder=holder,
                ttl_s=ttl_s,
                previous=current,
            )
            return record, lock

    def _new_deployment(self, args: dict[str, Any]) -> dict[str, Any]:
        """The row of a new deployment from the caller's arguments (``locals()``: the
        keyword arguments of create/start_deployment are named after the columns)."""
        if args["kind"] not in KINDS:
            raise ValueError(f"{args['kind']!r} is not a deployment kind ({', '.join(KINDS)})")
        check_via(args["via"])
        names = [c.name for c in _DEPLOYMENTS.columns if c.name != "id"]
        values = {name: args.get(name) for name in names}
        values |= {"status": "pending", "emergency": bool(args["emergency"])}
        return values

    def _insert_deployment(self, conn: Connection, values: dict[str, Any]) -> DeploymentRecord:
        rollback_of = values["rollback_of"]
        if rollback_of is not None and conn.execute(_EXISTS, {"id": rollback_of}).first() is None:
            raise StoreError(f"deployment {rollback_of} does not exist")
        values["created_at"] = self._now()
        id = conn.execute(_INSERT_DEPLOYMENT, values).scalar_one()
        row = {"id": id, **values}
        self._catalogue(conn, values["environment"], values["version"], values["commit"])
        data: JsonDict = {
            key: values[key]
            for key in ("environment", "version", "kind", "user", "reason", "emergency")
        }
        data |= {
            "commit": values["commit"],
            "rollback_of": rollback_of,
            "os_user": values["os_user"],
            "via": values["via"],
        }
        self._append_conn(
            conn, "deployment.created", data, deployment_id=id, seals=[seal("deployments", row)]
        )
        return DeploymentRecord(**row)

    def _catalogue(
        self, conn: Connection, environment: str, version: str, commit: str | None
    ) -> None:
        # insert-or-ignore: two first deployments of a version cannot both insert it
        # imported here: loading the PostgreSQL dialect costs ~20 ms a SQLite store never needs
        values = {
            "environment": environment, "version": version, "commit": commit,
            "created_at": self._now(),
        }
        if self.dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            conn.execute(
                postgresql.insert(_RELEASES).values(**values)
                .on_conflict_do_nothing(index_elements=["environment", "version"])
            )
        else:
            from sqlalchemy.dialects import sqlite

            conn.execute(
                sqlite.insert(_RELEASES).values(**values)
                .on_conflict_do_nothing(index_elements=["environment", "version"])
            )
        if commit is not None:
            conn.execute(_SET_COMMIT, {"env": environment, "ver": version, "new_commit": commit})

    def set_deployment_status(
        self,
        id: int,
        status: str,
        *,
        detail: str | None = None,
        release_lock: bool = False,
        token: int | None = None,
    ) -> DeploymentRecord:
        """Move a deployment to ``status``; sets started_at / finished_at as it goes.

        With ``release_lock`` (only for a final status) the environment's lease, if this
        deployment holds it, is released in the same transaction: no crash between the two
        can leave a finished deployment holding its environment. With ``token`` (fencing)
        nothing is written, and :class:`LockedError` raised, unless this deployment still
        holds the lease granted with that token.
        """
        if status not in DEPLOYMENT_STATUSES:
            raise ValueError(
                f"{status!r} is not a deployment status ({', '.join(DEPLOYMENT_STATUSES)})"
            )
        if release_lock and status not in FINAL_STATUSES:
            raise ValueError(f"release_lock needs a final status, not {status!r}")
        with self._write_conn() as conn:
            before = conn.execute(_LOCK_DEPLOYMENT, {"id": id}).first()
            if before is None:
                raise StoreError(f"deployment {id} does not exist")
            if before.status in FINAL_STATUSES:
                # a finished deployment is history: a late writer (a process that lost its
                # lease) must not rewrite how it ended
                raise StoreError(f"deployment {id} has already finished ({before.status})")
            # the advisory lock and the lease row before any append (see locks.py)
            if release_lock:
                self._serialise_conn(conn, before.environment)
            if token is not None:
                self._fence(conn, token, id, f"deployment {id} {status}")
            released = release_lock and self._delete_lease(
                conn, before.environment, deployment_id=id, token=token
            )
            now = self._now()
            values: dict[str, object] = {
                "status": status,
                "finished_at": now if status in FINAL_STATUSES else None,
            }
            if status == "running" and before.started_at is None:
                values["started_at"] = now
            if status in FINAL_STATUSES and before.started_at is not None:
                # stored for the metrics: their percentiles walk an index of it
                values["duration_s"] = (now - before.started_at).total_seconds()
            if detail is not None:
                values["detail"] = detail
            row = conn.execute(
                update(_DEPLOYMENTS)
                .where(_DEPLOYMENTS.c.id == id)
                .values(values)
                .returning(*_DEPLOYMENTS.c)
            ).one()
            self._append_conn(
                conn,
                f"deployment.{status}",
                {"status": status, "previous": before.status, "detail": detail},
                deployment_id=id,
                seals=[seal("deployments", dict(row._mapping))],
            )
            if released:
                self._released(conn, before.environment, deployment_id=id)
            return _deployment(row)

    def list_releases(self, environment: str | None = None) -> list[ReleaseRecord]:
        """The versions seen (per environment), oldest first."""
        query = select(_RELEASES).order_by(_RELEASES.c.id)
        if environment is not None:
            query = query.where(_RELEASES.c.environment == environment)
        with self._read_conn() as conn:
            return [to_record(ReleaseRecord, row) for row in conn.execute(query)]

    def get_deployment(self, id: int) -> DeploymentRecord | None:
        """The deployment with this id, if any."""
        with self._read_conn() as conn:
            row = conn.execute(select(_DEPLOYMENTS).where(_DEPLOYMENTS.c.id == id)).first()
            return None if row is None else _deployment(row)

    def list_deployments(
        self,
        *,
        environment: str | None = None,
        status: str | None = None,
        limit: int | None = 50,
        newest_first: bool = True,
    ) -> list[DeploymentRecord]:
        """Deployments, filtered by environment and status."""
        query = select(_DEPLOYMENTS).order_by(
            _DEPLOYMENTS.c.id.desc() if newest_first else _DEPLOYMENTS.c.id
        )
        if environment is not None:
            query = query.where(_DEPLOYMENTS.c.environment == environment)
        if status is not None:
            query = query.where(_DEPLOYMENTS.c.status == status)
        if limit is not None:
            query = query.limit(limit)
        with self._read_conn() as conn:
            return [_deployment(row) for row in conn.execute(query)]

    def list_deployment_summaries(
        self, *, environment: str | None = None, limit: int | None = 500
    ) -> list[DeploymentSummary]:
        """Newest first, without plans (a plan can be tens of KB: policy reads hundreds)."""
        query = select(
            _DEPLOYMENTS.c.id,
            _DEPLOYMENTS.c.environment,
            _DEPLOYMENTS.c.version,
            _DEPLOYMENTS.c.kind,
            _DEPLOYMENTS.c.status,
            _DEPLOYMENTS.c.finished_at,
        ).order_by(_DEPLOYMENTS.c.id.desc())
        if environment is not None:
            query = query.where(_DEPLOYMENTS.c.environment == environment)
        if limit is not None:
            query = query.limit(limit)
        with self._read_conn() as conn:
            # the columns in the record's order, times already UTC: built straight from
            # each row (to_record's generic copy cost more than the query for 500 rows)
            return [DeploymentSummary(*row) for row in conn.execute(query).all()]

    def list_deployment_page(
        self,
        *,
        environment: str | None = None,
        status: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> list[DeploymentListing]:
        """One page of deployments, newest first: the listing's columns only (a plan can
        be tens of KB), ``OFFSET``/``LIMIT`` in SQL (a deep page reads no earlier rows),
        times as ISO 8601 UTC text."""
        sqlite = self.dialect == "sqlite"
        query = _listing_query(sqlite, environment is not None, status is not None)
        values = {"env": environment, "status": status, "offset": offset, "limit": limit}
        iso = _sqlite_iso if sqlite else _aware_iso
        with self._read_conn() as conn:
            return [
                DeploymentListing._make((*row[:7], iso(row[7]), iso(row[8]), iso(row[9]), row[10]))
                for row in conn.execute(query, values).all()
            ]

    def last_successful(
        self, environment: str, *, before_id: int | None = None
    ) -> DeploymentRecord | None:
        """The newest succeeded deployment (a succeeded rollback counts: its version is live)."""
        query = (
            select(_DEPLOYMENTS)
            .where(_DEPLOYMENTS.c.environment == environment, _DEPLOYMENTS.c.status == "succeeded")
            .order_by(_DEPLOYMENTS.c.id.desc())
            .limit(1)
        )
        if before_id is not None:
            query = query.where(_DEPLOYMENTS.c.id < before_id)
        with self._read_conn() as conn:
            row = conn.execute(query).first()
            return None if row is None else _deployment(row)

    def live_version(self, environment: str) -> str | None:
        """The version running in ``environment`` according to the record."""
        last = self.last_successful(environment)
        return None if last is None else last.version
