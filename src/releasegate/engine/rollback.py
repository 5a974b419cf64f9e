"""The rollback procedure: undo what the deploy phase did, newest first, migration-aware.

* the target swaps back to the previous version;
* a reversible migration runs its ``down``; an expand-only one is kept (the old version
  runs on the new schema); an irreversible one needs the backup taken in this deployment
  restored, which is done and recorded here;
* then the environment's own ``rollback.steps`` run, seeing the version being restored
  (``RELEASEGATE_VERSION``; ``RELEASEGATE_KIND=rollback``; ``RELEASEGATE_PREVIOUS_VERSION``
  is the version rolled back from), so ``version-check`` there expects the restored one.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import JsonValue

from releasegate.engine.plan import TARGET_STEP, PlannedStep
from releasegate.engine.steps import Runtime, StepOutcome, execute_step, restoring

RESTORE_DRIVER = "restore"
BACKUP_DRIVER = "backup"


def steps_to_undo(rt: Runtime, attempted: Sequence[str]) -> list[PlannedStep]:
    """The deploy steps that were attempted, newest first."""
    by_id = {s.id: s for s in rt.plan.deploy}
    return [by_id[i] for i in reversed(attempted) if i in by_id]


async def roll_back(
    rt: Runtime,
    attempted: Sequence[str],
    *,
    reason: str,
    to_version: str | None = None,
    already_undone: Sequence[str] = (),
) -> bool:
    """Run the rollback procedure; True when every part of it succeeded."""
    back_to = to_version or rt.plan.release.previous_version
    rt.store.set_deployment_status(rt.deployment_id, "rolling_back", detail=reason, token=rt.token)
    rt.store.append_event(
        "rollback.started",
        {"reason": reason, "to_version": back_to, "undo": list(attempted)},
        deployment_id=rt.deployment_id,
    )
    rt.reporter.event("rollback.started", {"reason": reason, "to_version": back_to})
    ok = True
    restore_needed = rt.config.environments[rt.plan.environment].rollback.restore_backup == "always"
    for step in steps_to_undo(rt, attempted):
        if step.id in already_undone:
            continue
        if step.uses == TARGET_STEP:
            outcome = await execute_step(rt, step, mode="undo", to_version=back_to)
        elif step.undo:
            outcome = await execute_step(rt, step, mode="undo")
            if not outcome.ok and _needs_restore(rt, step.id):
                restore_needed = True
                continue
        else:
            continue
        ok = ok and outcome.ok
    if restore_needed and rt.config.environments[rt.plan.environment].rollback.restore_backup != "never":
        outcome = await _restore(rt)
        ok = ok and outcome.ok
    # the environment's own rollback steps see the version being restored
    restored = restoring(rt.plan.release, back_to) if back_to else None
    for step in rt.plan.rollback_steps:
        if step.id in already_undone:
            continue
        outcome = await execute_step(rt, step, phase="rollback", release=restored)
        ok = ok and outcome.ok
    rt.store.append_event(
        "rollback.finished", {"ok": ok, "to_version": back_to}, deployment_id=rt.deployment_id
    )
    rt.reporter.event("rollback.finished", {"ok": ok, "to_version": back_to})
    return ok


def _needs_restore(rt: Runtime, step_id: str) -> bool:
    for run in reversed(rt.store.list_step_runs(rt.deployment_id)):
        if run.step_id == step_id and run.phase.endswith(":undo"):
            return run.evidence.get("action") == "restore-needed"
    return False


async def _restore(rt: Runtime) -> StepOutcome:
    """Restore the backup this deployment took (irreversible migration)."""
    backup_step = next((s for s in rt.plan.deploy if s.uses == BACKUP_DRIVER), None)
    backups = rt.store.list_backups(deployment_id=rt.deployment_id)
    dep = rt.store.get_deployment(rt.deployment_id)
    if not backups and dep is not None and dep.rollback_of is not None:
        backups = rt.store.list_backups(deployment_id=dep.rollback_of)
    if backup_step is None or not backups:
        summary = "an irreversible migration ran but this deployment took no backup to restore"
        run = rt.store.start_step(rt.deployment_id, step_id="restore-backup", phase="rollback", attempt=1, token=rt.token)
        rt.store.finish_step(run.id, status="failed", summary=summary, token=rt.token)
        rt.reporter.event("step.finished", {"step": "restore-backup", "status": "failed", "summary": summary})
        return StepOutcome("restore-backup", "failed", summary)
    options: dict[str, JsonValue] = {"backup": backups[-1].location}
    if "database" in backup_step.options:
        options["database"] = backup_step.options["database"]
    restore = PlannedStep(
        id="restore-backup",
        title=f"restore backup {backups[-1].id} (irreversible migration)",
        phase="rollback",
        uses=RESTORE_DRIVER,
        options=options,
        needs=(),
        timeout_s=backup_step.timeout_s * 2,
        retries=0,
        retry_delay_s=1.0,
        on_failure="stop",
        checklist=(),
        safe_to_rerun=True,
    )
    return await execute_step(rt, restore, phase="rollback")
