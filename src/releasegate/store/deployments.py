"""Deployments, their step runs, and the release catalogue."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from releasegate.store.base import StoreBase, to_record
from releasegate.store.records import (
    DEPLOYMENT_STATUSES,
    FINAL_STATUSES,
    STEP_STATUSES,
    DeploymentRecord,
    JsonDict,
    ReleaseRecord,
    StepRunRecord,
)
from releasegate.store.tables import DeploymentRow, ReleaseRow, StepRunRow

KINDS = ("normal", "major", "hotfix", "rollback")


def _deployment(row: DeploymentRow) -> DeploymentRecord:
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

    def set_deployment_status(
        self, id: int, status: str, *, detail: str | None = None
    ) -> DeploymentRecord:
        """Move a deployment to ``status``; sets started_at / finished_at as it goes."""
        if status not in DEPLOYMENT_STATUSES:
            raise ValueError(
                f"{status!r} is not a deployment status ({', '.join(DEPLOYMENT_STATUSES)})"
            )
        with self._write() as session:
            row = self._get(session, DeploymentRow, id, "deployment")
            previous = row.status
            now = self._now()
            row.status = status
            if status == "running" and row.started_at is None:
                row.started_at = now
            row.finished_at = now if status in FINAL_STATUSES else None
            if detail is not None:
                row.detail = detail
            session.flush()
            self._append(
                session,
                f"deployment.{status}",
                {"status": status, "previous": previous, "detail": detail},
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
        with self._write() as session:
            self._get(session, DeploymentRow, deployment_id, "deployment")
            row = StepRunRow(
                deployment_id=deployment_id,
                step_id=step_id,
                phase=phase,
                attempt=attempt,
                status="running",
                summary="",
                output="",
                evidence={},
                started_at=self._now(),
            )
            session.add(row)
            session.flush()
            self._append(
                session,
                "step.started",
                {"run_id": row.id, "step_id": step_id, "phase": phase, "attempt": attempt},
                deployment_id=deployment_id,
            )
            return _step_run(row)

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
        with self._write() as session:
            row = self._get(session, StepRunRow, run_id, "step run")
            row.status, row.summary, row.output = status, summary, output
            row.evidence = dict(evidence or {})
            row.finished_at = self._now()
            session.flush()
            self._append(
                session,
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
            return _step_run(row)

    def list_step_runs(self, deployment_id: int) -> list[StepRunRecord]:
        """Every step attempt of a deployment, in the order they started."""
        query = (
            select(StepRunRow)
            .where(StepRunRow.deployment_id == deployment_id)
            .order_by(StepRunRow.id)
        )
        with self._read() as session:
            return [_step_run(row) for row in session.scalars(query)]
