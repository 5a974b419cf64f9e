"""Deployments, their step runs, and the release catalogue."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from releasegate.errors import StoreError
from releasegate.store.base import StoreBase, to_record
from releasegate.store.records import (
    DEPLOYMENT_STATUSES,
    FINAL_STATUSES,
    STEP_STATUSES,
    DeploymentRecord,
    DeploymentSummary,
    JsonDict,
    ReleaseRecord,
    StepRunRecord,
)
from releasegate.store.tables import DeploymentRow, ReleaseRow, StepRunRow

KINDS = ("normal", "major", "hotfix", "rollback")

# The engine's hot path (a step's start and end, status changes) is written with Core:
# no ORM unit of work, no look-up before an insert (the foreign key answers that).
_DEPLOYMENTS = cast(Table, DeploymentRow.__table__)
_STEP_RUNS = cast(Table, StepRunRow.__table__)
_INSERT_STEP_RUN = insert(_STEP_RUNS).returning(_STEP_RUNS.c.id)
_FINISH_STEP_RUN = (
    update(_STEP_RUNS)
    .where(_STEP_RUNS.c.id == bindparam("run_id"))
    .values(
        status=bindparam("status"),
        summary=bindparam("summary"),
        output=bindparam("output"),
        evidence=bindparam("evidence"),
        finished_at=bindparam("finished_at"),
    )
    .returning(  # not the output and evidence just written: they can be large
        *(_STEP_RUNS.c[c] for c in ("deployment_id", "step_id", "phase", "attempt", "started_at"))
    )
)
_LOCK_DEPLOYMENT = (
    select(_DEPLOYMENTS.c.status, _DEPLOYMENTS.c.started_at)
    .where(_DEPLOYMENTS.c.id == bindparam("id"))
    .with_for_update(key_share=True)  # FOR NO KEY UPDATE: the lock the UPDATE takes anyway
)


def _deployment(row: DeploymentRow | Row[Any]) -> DeploymentRecord:
    return to_record(DeploymentRecord, row)


def _step_run(row: StepRunRow) -> StepRunRecord:
    return to_record(StepRunRecord, row)


class Deployments(StoreBase):
    """Deployments and step runs."""

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
    ) -> DeploymentRecord:
        """Record a new deployment (status ``pending``) and its version in the catalogue."""
        if kind not in KINDS:
            raise ValueError(f"{kind!r} is not a deployment kind ({', '.join(KINDS)})")
        with self._write() as session:
            if rollback_of is not None:
                self._get(session, DeploymentRow, rollback_of, "deployment")
            now = self._now()
            row = DeploymentRow(
                environment=environment,
                version=version,
                kind=kind,
                status="pending",
                user=user,
                reason=reason,
                emergency=emergency,
                commit=commit,
                rollback_of=rollback_of,
                plan=plan,
                created_at=now,
            )
            session.add(row)
            self._catalogue(session, environment, version, commit)
            session.flush()
            self._append(
                session,
                "deployment.created",
                {
                    "environment": environment,
                    "version": version,
                    "kind": kind,
                    "user": user,
                    "reason": reason,
                    "emergency": emergency,
                    "commit": commit,
                    "rollback_of": rollback_of,
                },
                deployment_id=row.id,
            )
            return _deployment(row)

    def _catalogue(
        self, session: Session, environment: str, version: str, commit: str | None
    ) -> None:
        found = session.scalars(
            select(ReleaseRow).where(
                ReleaseRow.environment == environment, ReleaseRow.version == version
            )
        ).first()
        if found is None:
            session.add(
                ReleaseRow(
                    environment=environment, version=version, commit=commit, created_at=self._now()
                )
            )
        elif found.commit is None and commit is not None:
            found.commit = commit

    def list_releases(self, environment: str | None = None) -> list[ReleaseRecord]:
        """The versions seen (per environment), oldest first."""
        query = select(ReleaseRow).order_by(ReleaseRow.id)
        if environment is not None:
            query = query.where(ReleaseRow.environment == environment)
        with self._read() as session:
            return [to_record(ReleaseRecord, row) for row in session.scalars(query)]

    def get_deployment(self, id: int) -> DeploymentRecord | None:
        """The deployment with this id, if any."""
        with self._read() as session:
            row = session.get(DeploymentRow, id)
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
        query = select(DeploymentRow).order_by(
            DeploymentRow.id.desc() if newest_first else DeploymentRow.id
        )
        if environment is not None:
            query = query.where(DeploymentRow.environment == environment)
        if status is not None:
            query = query.where(DeploymentRow.status == status)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as session:
            return [_deployment(row) for row in session.scalars(query)]

    def list_deployment_summaries(
        self, *, environment: str | None = None, limit: int | None = 500
    ) -> list[DeploymentSummary]:
        """Newest first, without plans (a plan can be tens of KB: policy reads hundreds)."""
        query = select(
            DeploymentRow.id,
            DeploymentRow.environment,
            DeploymentRow.version,
            DeploymentRow.kind,
            DeploymentRow.status,
            DeploymentRow.finished_at,
        ).order_by(DeploymentRow.id.desc())
        if environment is not None:
            query = query.where(DeploymentRow.environment == environment)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as session:
            return [to_record(DeploymentSummary, row) for row in session.execute(query)]

    def set_deployment_status(
        self, id: int, status: str, *, detail: str | None = None
    ) -> DeploymentRecord:
        """Move a deployment to ``status``; sets started_at / finished_at as it goes."""
        if status not in DEPLOYMENT_STATUSES:
            raise ValueError(
                f"{status!r} is not a deployment status ({', '.join(DEPLOYMENT_STATUSES)})"
            )
        with self._write_conn() as conn:
            before = conn.execute(_LOCK_DEPLOYMENT, {"id": id}).first()
            if before is None:
                raise StoreError(f"deployment {id} does not exist")
            if before.status in FINAL_STATUSES:
                # a finished deployment is history: a late writer (a process that lost its
                # lease) must not rewrite how it ended
                raise StoreError(f"deployment {id} has already finished ({before.status})")
            now = self._now()
            values: dict[str, object] = {
                "status": status,
                "finished_at": now if status in FINAL_STATUSES else None,
            }
            if status == "running" and before.started_at is None:
                values["started_at"] = now
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
            )
            return _deployment(row)

    def last_successful(
        self, environment: str, *, before_id: int | None = None
    ) -> DeploymentRecord | None:
        """The newest succeeded deployment (a succeeded rollback counts: its version is live)."""
        query = (
            select(DeploymentRow)
            .where(DeploymentRow.environment == environment, DeploymentRow.status == "succeeded")
            .order_by(DeploymentRow.id.desc())
            .limit(1)
        )
        if before_id is not None:
            query = query.where(DeploymentRow.id < before_id)
        with self._read() as session:
            row = session.scalars(query).first()
            return None if row is None else _deployment(row)

    def live_version(self, environment: str) -> str | None:
        """The version running in ``environment`` according to the record."""
        last = self.last_successful(environment)
        return None if last is None else last.version

    def start_step(
        self, deployment_id: int, *, step_id: str, phase: str, attempt: int
    ) -> StepRunRecord:
        """Record that an attempt at a step started (status ``running``)."""
        with self._write_conn(deployment_id=deployment_id) as conn:
            values: dict[str, Any] = {
                "deployment_id": deployment_id,
                "step_id": step_id,
                "phase": phase,
                "attempt": attempt,
                "status": "running",
                "summary": "",
                "output": "",
                "evidence": {},
                "started_at": self._now(),
                "finished_at": None,
            }
            id = conn.execute(_INSERT_STEP_RUN, values).scalar_one()
            self._append_conn(
                conn,
                "step.started",
                {"run_id": id, "step_id": step_id, "phase": phase, "attempt": attempt},
                deployment_id=deployment_id,
            )
        return StepRunRecord(id=id, **values)

    def finish_step(
        self,
        run_id: int,
        *,
        status: str,
        summary: str,
        output: str = "",
        evidence: JsonDict | None = None,
    ) -> StepRunRecord:
        """Record how a step attempt ended, with its output and evidence."""
        if status not in STEP_STATUSES:
            raise ValueError(f"{status!r} is not a step status ({', '.join(STEP_STATUSES)})")
        evidence = dict(evidence or {})
        with self._write_conn() as conn:
            finished_at = self._now()
            row = conn.execute(
                _FINISH_STEP_RUN,
                {
                    "run_id": run_id,
                    "status": status,
                    "summary": summary,
                    "output": output,
                    "evidence": evidence,
                    "finished_at": finished_at,
                },
            ).first()
            if row is None:
                raise StoreError(f"step run {run_id} does not exist")
            self._append_conn(
                conn,
                f"step.{status}",
                {
                    "run_id": run_id,
                    "step_id": row.step_id,
                    "phase": row.phase,
                    "attempt": row.attempt,
                    "summary": summary,
                },
                deployment_id=row.deployment_id,
            )
        return StepRunRecord(
            id=run_id, status=status, summary=summary, output=output, evidence=evidence,
            finished_at=finished_at, **row._mapping,
        )

    def list_step_runs(self, deployment_id: int) -> list[StepRunRecord]:
        """Every step attempt of a deployment, in the order they started."""
        query = (
            select(StepRunRow)
            .where(StepRunRow.deployment_id == deployment_id)
            .order_by(StepRunRow.id)
        )
        with self._read() as session:
            return [_step_run(row) for row in session.scalars(query)]
