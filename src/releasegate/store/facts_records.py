"""Records that count: what a release contained, what went wrong after it, and who was told.

The tables here (created by migration ``0003``) feed ``releasegate.metrics``:

* ``release_facts`` / ``release_changes`` — per (project, environment, version): the commit,
  the previous release's commit, kind, changelog entry, when it first went live, and each
  change (a first-parent commit) with the time of its first commit;
* ``defects`` — bugs, security issues, performance regressions and complaints people
  record against a deployment;
* ``failure_links`` — a deployment explicitly linked to a failure: an incident it caused,
  the hotfix that repaired it, a failed verification;
* ``outages`` — periods the service was down during a deployment (maintenance page, probe);
* ``notification_log`` — each notification delivered, failed or dropped.

:class:`Records` is a store mixin: every write appends its audit event in the same
transaction, as the rest of the store does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import (
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    column,
    insert,
    select,
    table,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from releasegate.errors import StoreError
from releasegate.store.base import StoreBase
from releasegate.store.columns import UTCDateTime
from releasegate.store.schema import metadata

DefectKind = Literal["bug", "security", "performance", "complaint"]
DEFECT_KINDS: tuple[DefectKind, ...] = get_args(DefectKind)
FailureCause = Literal["incident", "hotfix", "verification"]
FAILURE_CAUSES: tuple[FailureCause, ...] = get_args(FailureCause)
OutageSource = Literal["maintenance", "probe", "target", "manual"]
NotificationStatus = Literal["sent", "failed", "dropped", "deferred"]

_META = metadata
# the column migration 0003 adds to deployments (DeploymentRow gains it on merge)
_DEPLOYMENT_PROJECT = table("deployments", column("id", Integer), column("project", String))


def _ts(name: str, *, nullable: bool = False) -> Column[datetime]:
    return Column(name, UTCDateTime(), nullable=nullable)


def _fk(name: str, table: str, *, nullable: bool = False) -> Column[int]:
    return Column(name, Integer, ForeignKey(f"{table}.id"), nullable=nullable)


release_facts = Table(
    "release_facts",
    _META,
    Column("id", Integer, primary_key=True),
    Column("project", String(128), nullable=False),
    Column("environment", String(128), nullable=False),
    Column("version", String(256), nullable=False),
    Column("commit", String(64)),
    Column("previous_commit", String(64)),
    Column("kind", String(32), nullable=False),
    Column("changelog", Text),
    _ts("live_at", nullable=True),
    _ts("recorded_at"),
    UniqueConstraint("project", "environment", "version", name="uq_release_facts"),
    Index("ix_release_facts_live", "project", "environment", "live_at"),
)
release_changes = Table(
    "release_changes",
    _META,
    Column("id", Integer, primary_key=True),
    _fk("release_id", "release_facts"),
    Column("sha", String(64), nullable=False),
    _ts("first_commit_at"),
    _ts("merged_at"),
    Column("subject", Text, nullable=False),
    # written when the release goes live (migration 0006): the lead time's percentiles
    # walk ix_release_changes_lead in order
    _ts("live_at", nullable=True),
    Column("lead_s", Float),
    Index("ix_release_changes_release", "release_id"),
    Index("ix_release_changes_lead", "lead_s", "live_at", "release_id"),
)
defects = Table(
    "defects",
    _META,
    Column("id", Integer, primary_key=True),
    _fk("deployment_id", "deployments"),
    Column("kind", String(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("user", String(256), nullable=False),
    _ts("created_at"),
    CheckConstraint("kind IN ('bug', 'security', 'performance', 'complaint')", name="ck_defects_kind"),
    Index("ix_defects_deployment", "deployment_id"),
)
failure_links = Table(
    "failure_links",
    _META,
    Column("id", Integer, primary_key=True),
    _fk("deployment_id", "deployments"),
    Column("cause", String(32), nullable=False),
    _fk("incident_id", "incidents", nullable=True),
    _fk("fixed_by", "deployments", nullable=True),
    # the incident's or hotfix's id, 0 for a verification: NULLs would never clash
    Column("ref_id", Integer, nullable=False),
    Column("user", String(256), nullable=False),
    Column("note", Text),
    _ts("created_at"),
    CheckConstraint("cause IN ('incident', 'hotfix', 'verification')", name="ck_failure_links_cause"),
    UniqueConstraint("deployment_id", "cause", "ref_id", name="uq_failure_links"),
    Index("ix_failure_links_deployment", "deployment_id"),
)
outages = Table(
    "outages",
    _META,
    Column("id", Integer, primary_key=True),
    _fk("deployment_id", "deployments"),
    _ts("started_at"),
    _ts("ended_at"),
    Column("source", String(32), nullable=False),
    Column("note", Text),
    CheckConstraint("ended_at >= started_at", name="ck_outages_order"),
    Index("ix_outages_deployment", "deployment_id"),
)
notification_log = Table(
    "notification_log",
    _META,
    Column("id", Integer, primary_key=True),
    _fk("deployment_id", "deployments", nullable=True),
    Column("event", String(64), nullable=False),
    Column("destination", String(256), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("error", Text),
    _ts("created_at"),
    Index("ix_notification_log_deployment", "deployment_id"),
)


@dataclass(frozen=True)
class ChangeFact:
    """One change a release contains: a first-parent commit and its first commit's time."""

    sha: str
    first_commit_at: datetime
    merged_at: datetime
    subject: str


class Records(StoreBase):
    """Writes of the records metrics read. Each appends one audit event."""

    def record_release(
        self,
        *,
        project: str,
        environment: str,
        version: str,
        kind: str,
        commit: str | None,
        previous_commit: str | None,
        changes: Sequence[ChangeFact],
        changelog: str | None = None,
    ) -> int:
        """Record what a version contains when it is first deployed to an environment.

        Returns the release's id; a version already recorded keeps its first record (a
        redeploy contains nothing new) and its id is returned.
        """
        with self._write_conn() as conn:
            found = conn.execute(
                select(release_facts.c.id).where(
                    release_facts.c.project == project,
                    release_facts.c.environment == environment,
                    release_facts.c.version == version,
                )
            ).scalar()
            if found is not None:
                return int(found)
            release_id = conn.execute(
                insert(release_facts).returning(release_facts.c.id),
                {
                    "project": project, "environment": environment, "version": version,
                    "commit": commit, "previous_commit": previous_commit, "kind": kind,
                    "changelog": changelog, "live_at": None, "recorded_at": self._now(),
                },
            ).scalar_one()
            if changes:
                conn.execute(
                    insert(release_changes),
                    [
                        {"release_id": release_id, "sha": c.sha, "first_commit_at": c.first_commit_at,
                         "merged_at": c.merged_at, "subject": c.subject}
                        for c in changes
                    ],
                )
            self._append_conn(conn, "release.recorded", {
                "release_id": release_id, "project": project, "environment": environment,
                "version": version, "commit": commit, "previous_commit": previous_commit,
                "changes": len(changes),
            })
            return int(release_id)

    def mark_live(self, *, project: str, environment: str, version: str, at: datetime) -> bool:
        """Note when a recorded release first went live (its first successful deployment
        finished); later calls change nothing. Returns whether this call set it."""
        with self._write_conn() as conn:
            moved = conn.execute(
                update(release_facts)
                .where(
                    release_facts.c.project == project,
                    release_facts.c.environment == environment,
                    release_facts.c.version == version,
                    release_facts.c.live_at.is_(None),
                )
                .values(live_at=at)
            )
            if moved.rowcount != 1:
                return False
            self._changes_live(conn, project, environment, version, at)
            self._append_conn(conn, "release.live", {
                "project": project, "environment": environment, "version": version,
                "at": at.isoformat(),
            })
            return True

    @staticmethod
    def _changes_live(conn: Connection, project: str, environment: str, version: str, at: datetime) -> None:
        """Each change of the release gets ``live_at`` and its lead time in seconds (NULL
        when its commit is dated after ``at``: clock skew, left out of the lead time)."""
        release_id = select(release_facts.c.id).where(
            release_facts.c.project == project, release_facts.c.environment == environment,
            release_facts.c.version == version,
        ).scalar_subquery()
        rows = conn.execute(
            select(release_changes.c.id, release_changes.c.first_commit_at)
            .where(release_changes.c.release_id == release_id)
        ).all()
        for change_id, first in rows:
            lead = (at - first).total_seconds() if first <= at else None
            conn.execute(
                update(release_changes).where(release_changes.c.id == change_id)
                .values(live_at=at, lead_s=lead)
            )

    def add_defect(self, deployment_id: int, *, kind: str, note: str, user: str) -> int:
        """A person records a bug, security issue, performance regression or complaint
        against a deployment (``releasegate defect add``)."""
        if kind not in DEFECT_KINDS:
            raise StoreError(f"defect kind {kind!r} is not one of {', '.join(DEFECT_KINDS)}")
        with self._write_conn(deployment_id=deployment_id) as conn:
            defect_id = conn.execute(
                insert(defects).returning(defects.c.id),
                {"deployment_id": deployment_id, "kind": kind, "note": note, "user": user,
                 "created_at": self._now()},
            ).scalar_one()
            self._append_conn(
                conn, "defect.recorded",
                {"defect_id": defect_id, "kind": kind, "note": note, "user": user},
                deployment_id=deployment_id,
            )
            return int(defect_id)

    def link_failure(
        self,
        deployment_id: int,
        *,
        cause: str,
        user: str,
        incident_id: int | None = None,
        fixed_by: int | None = None,
        note: str | None = None,
    ) -> int:
        """Link a deployment to a failure it caused: ``incident`` (with ``incident_id``),
        ``hotfix`` (``fixed_by``: the hotfix deployment), ``verification``. Linking the
        same thing twice is refused with a StoreError that says so."""
        if cause not in FAILURE_CAUSES:
            raise StoreError(f"failure cause {cause!r} is not one of {', '.join(FAILURE_CAUSES)}")
        if (cause == "incident") != (incident_id is not None):
            raise StoreError("an incident link needs incident_id, and only an incident link has one")
        if (cause == "hotfix") != (fixed_by is not None):
            raise StoreError("a hotfix link needs fixed_by, and only a hotfix link has one")
        ref_id = incident_id or fixed_by or 0
        with self._write_conn(deployment_id=deployment_id) as conn:
            try:
                with conn.begin_nested():  # a savepoint: a clash must not end the transaction
                    link_id = conn.execute(
                        insert(failure_links).returning(failure_links.c.id),
                        {"deployment_id": deployment_id, "cause": cause, "incident_id": incident_id,
                         "fixed_by": fixed_by, "ref_id": ref_id, "user": user, "note": note,
                         "created_at": self._now()},
                    ).scalar_one()
            except IntegrityError as exc:
                raise self._link_error(conn, deployment_id, cause, ref_id) from exc
            self._append_conn(
                conn, "failure.linked",
                {"link_id": link_id, "cause": cause, "incident_id": incident_id,
                 "fixed_by": fixed_by, "user": user, "note": note},
                deployment_id=deployment_id,
            )
            return int(link_id)

    def _link_error(self, conn: Connection, deployment_id: int, cause: str, ref_id: int) -> StoreError:
        exists = conn.execute(
            select(failure_links.c.id).where(
                failure_links.c.deployment_id == deployment_id,
                failure_links.c.cause == cause,
                failure_links.c.ref_id == ref_id,
            )
        ).first()
        if exists is not None:
            what = {"incident": f"incident {ref_id}", "hotfix": f"hotfix deployment {ref_id}"}
            return StoreError(
                f"deployment {deployment_id} is already linked to {what.get(cause, 'a failed verification')}"
            )
        if cause == "incident":
            return StoreError(f"deployment {deployment_id} or incident {ref_id} does not exist")
        if cause == "hotfix":
            return StoreError(f"deployment {deployment_id} or {ref_id} does not exist")
        return StoreError(f"deployment {deployment_id} does not exist")

    def record_outage(
        self, deployment_id: int, *, started_at: datetime, ended_at: datetime, source: str,
        note: str | None = None,
    ) -> int:
        """A period the service did not serve its users during a deployment."""
        if ended_at < started_at:
            raise StoreError(f"outage of deployment {deployment_id} ends before it starts")
        with self._write_conn(deployment_id=deployment_id) as conn:
            outage_id = conn.execute(
                insert(outages).returning(outages.c.id),
                {"deployment_id": deployment_id, "started_at": started_at, "ended_at": ended_at,
                 "source": source, "note": note},
            ).scalar_one()
            self._append_conn(
                conn, "outage.recorded",
                {"outage_id": outage_id, "started_at": started_at.isoformat(),
                 "ended_at": ended_at.isoformat(), "source": source},
                deployment_id=deployment_id,
            )
            return int(outage_id)

    def record_notification(
        self, *, deployment_id: int | None, event: str, destination: str, status: str,
        attempts: int, error: str | None,
    ) -> None:
        """What became of one notification (``destination`` is already redacted)."""
        with self._write_conn(deployment_id=deployment_id) as conn:
            conn.execute(insert(notification_log), {
                "deployment_id": deployment_id, "event": event, "destination": destination,
                "status": status, "attempts": attempts, "error": error, "created_at": self._now(),
            })
            self._append_conn(
                conn, f"notification.{status}",
                {"event": event, "destination": destination, "attempts": attempts, "error": error},
                deployment_id=deployment_id,
            )

    def set_project(self, deployment_id: int, project: str) -> None:
        """Label a deployment with its project (until the engine records it at creation)."""
        with self._write_conn(deployment_id=deployment_id) as conn:
            conn.execute(
                update(_DEPLOYMENT_PROJECT)
                .where(_DEPLOYMENT_PROJECT.c.id == deployment_id)
                .values(project=project)
            )


__all__ = [
    "DEFECT_KINDS",
    "FAILURE_CAUSES",
    "ChangeFact",
    "Records",
    "defects",
    "failure_links",
    "notification_log",
    "outages",
    "release_changes",
    "release_facts",
]
