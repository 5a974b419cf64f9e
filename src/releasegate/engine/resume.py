"""Where an interrupted deployment stands, read back from its recorded step runs.

A step whose last attempt is still ``running`` was interrupted (its process died). It is
closed as ``cancelled``; then a step that is not safe to re-run, or any deploy step, is
re-checked with its driver's ``verify`` (a target checks which version is live): if the
check passes the step counts as done, otherwise it is not.
"""

from __future__ import annotations

from releasegate.engine.plan import TARGET_STEP, PlannedStep
from releasegate.engine.runner import Progress
from releasegate.engine.steps import FINAL_OK, Runtime, execute_step


def _can_verify(rt: Runtime, step: PlannedStep) -> bool:
    if step.uses == TARGET_STEP:
        return True
    driver_cls = rt.registry.get("step", step.uses)
    return callable(getattr(driver_cls, "verify", None))


async def progress_of(rt: Runtime) -> Progress:
    """Read what is done, re-checking interrupted steps as their drivers allow."""
    runs = rt.store.list_step_runs(rt.deployment_id)
    latest: dict[tuple[str, str], str] = {}
    for run in runs:
        if run.status == "running":
            rt.store.finish_step(
                run.id, status="cancelled", summary="interrupted: the process running it stopped",
                token=rt.token,
            )
            latest[(run.phase, run.step_id)] = "interrupted"
        else:
            latest[(run.phase, run.step_id)] = run.status
    done: set[str] = set()
    attempted: list[str] = []
    undone: list[str] = []
    for (phase, step_id), status in latest.items():
        if phase in ("gates", "deploy", "post") and status in FINAL_OK:
            done.add(step_id)
        if phase == "deploy" and status != "skipped" and step_id not in attempted:
            attempted.append(step_id)
        if (phase.endswith(":undo") or phase == "rollback") and status in FINAL_OK:
            undone.append(step_id)
    for (phase, step_id), status in latest.items():
        if status != "interrupted" or phase not in ("gates", "deploy", "post"):
            continue
        try:
            step = rt.plan.step(step_id)
        except KeyError:
            continue
        if (phase == "deploy" or not step.safe_to_rerun) and _can_verify(rt, step):
            outcome = await execute_step(rt, step, mode="verify", phase=phase)
            if outcome.ok:
                done.add(step_id)
    order = [s.id for s in rt.plan.deploy]
    attempted.sort(key=lambda i: order.index(i) if i in order else len(order))
    return Progress(
        done=frozenset(done),
        deploy_attempted=tuple(attempted),
        undone=tuple(undone),
        deploy_started=bool(attempted),
    )
