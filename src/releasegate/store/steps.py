"""Step runs: each attempt at a step of a deployment, and how it ended.

The engine's hot path: a step's start and its end are one transaction each, written with
Core statements built once, the evidence encoded once (the same canonical text is stored
and sealed), and the foreign key answering "does the deployment exist" instead of a look-up.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, select, update

from releasegate.errors import StoreError
from releasegate.store import schema
from releasegate.store.base import StoreBase, to_record
from releasegate.store.columns import JSONText
from releasegate.store.connection import canonical_dumps
from releasegate.store.locks import Locks
from releasegate.store.records import STEP_STATUSES, JsonDict, StepRunRecord
from releasegate.store.seals import seal_canonical, utc_text

_STEP_RUNS = schema.step_runs
_INSERT_STEP_RUN = (
    insert(_STEP_RUNS)
    .values(evidence=bindparam("evidence", type_=JSONText()))
    .returning(_STEP_RUNS.c.id)
)
_FINISH_STEP_RUN = (
    update(_STEP_RUNS)
    .where(_STEP_RUNS.c.id == bindparam("run_id"))
    .values(
        status=bindparam("status"),
        summary=bindparam("summary"),
        output=bindparam("output"),
        evidence=bindparam("evidence", type_=JSONText()),
        finished_at=bindparam("finished_at"),
    )
    .returning(  # not the output and evidence just written: they can be large
        *(_STEP_RUNS.c[c] for c in ("deployment_id", "step_id", "phase", "attempt", "started_at"))
    )
)


class Steps(Locks, StoreBase):
    """Step runs."""

    def start_step(
        self,
        deployment_id: int,
        *,
        step_id: str,
        phase: str,
        attempt: int,
        token: int | None = None,
    ) -> StepRunRecord:
        """Record that an attempt at a step started (status ``running``).

        With ``token`` (fencing) nothing is written, and :class:`LockedError` raised,
        unless the deployment still holds the lease granted with that token.
        """
        started_at = self._now()
        with self._write_conn(deployment_id=deployment_id) as conn:
            if token is not None:
                self._fence(conn, token, deployment_id, f"step {step_id} start")
            values: dict[str, Any] = {
                "deployment_id": deployment_id,
                "step_id": step_id,
                "phase": phase,
                "attempt": attempt,
                "status": "running",
                "summary": "",
                "output": "",
                "evidence": "{}",
                "started_at": started_at,
                "finished_at": None,
            }
            id = conn.execute(_INSERT_STEP_RUN, values).scalar_one()
            canonical = (
                id, deployment_id, step_id, phase, attempt, "running", "", "", "{}",
                utc_text(started_at), None,
            )  # fmt: skip
            self._append_conn(
                conn,
                "step.started",
                {"run_id": id, "step_id": step_id, "phase": phase, "attempt": attempt},
                deployment_id=deployment_id,
                seals=[seal_canonical("step_runs", canonical)],
            )
        return StepRunRecord(id=id, **(values | {"evidence": {}}))

    def finish_step(
        self,
        run_id: int,
        *,
        status: str,
        summary: str,
        output: str = "",
        evidence: JsonDict | None = None,
        token: int | None = None,
    ) -> StepRunRecord:
        """Record how a step attempt ended, with its output and evidence (fenced by
        ``token`` as :meth:`start_step` is)."""
        if status not in STEP_STATUSES:
            raise ValueError(f"{status!r} is not a step status ({', '.join(STEP_STATUSES)})")
        evidence = dict(evidence or {})
        evidence_text = canonical_dumps(evidence)
        with self._write_conn() as conn:
            finished_at = self._now()
            row = conn.execute(
                _FINISH_STEP_RUN,
                {
                    "run_id": run_id,
                    "status": status,
                    "summary": summary,
                    "output": output,
                    "evidence": evidence_text,
                    "finished_at": finished_at,
                },
            ).first()
            if row is None:
                raise StoreError(f"step run {run_id} does not exist")
            if token is not None:
                self._fence(conn, token, row.deployment_id, f"step run {run_id} result")
            canonical = (
                run_id, row.deployment_id, row.step_id, row.phase, row.attempt, status,
                summary, output, evidence_text, utc_text(row.started_at), utc_text(finished_at),
            )  # fmt: skip
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
                seals=[seal_canonical("step_runs", canonical)],
            )
        return StepRunRecord(
            id=run_id, status=status, summary=summary, output=output, evidence=evidence,
            finished_at=finished_at, **row._mapping,
        )  # fmt: skip

    def list_step_runs(self, deployment_id: int) -> list[StepRunRecord]:
        """Every step attempt of a deployment, in the order they started."""
        query = (
            select(_STEP_RUNS)
            .where(_STEP_RUNS.c.deployment_id == deployment_id)
            .order_by(_STEP_RUNS.c.id)
        )
        with self._read_conn() as conn:
            return [to_record(StepRunRecord, row) for row in conn.execute(query)]
