"""Runs the steps of one phase as a DAG: a step starts once everything it ``needs`` is
done, at most ``concurrency`` at a time. After a failure that stops the phase no new step
starts; steps already running finish and are recorded."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field

from releasegate.engine.plan import PlannedStep
from releasegate.engine.steps import StepOutcome


@dataclass
class PhaseResult:
    outcomes: dict[str, StepOutcome] = field(default_factory=dict)
    failed: StepOutcome | None = None
    """The first failure that stops the phase."""
    on_failure: str = "stop"
    not_run: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed is None


async def run_phase(
    steps: Sequence[PlannedStep],
    run: Callable[[PlannedStep], Awaitable[StepOutcome]],
    *,
    concurrency: int,
    already_done: Collection[str] = (),
    on_skip: Callable[[PlannedStep, str], StepOutcome] | None = None,
) -> PhaseResult:
    """Run ``steps`` (skipping ids in ``already_done``) and return what happened."""
    result = PhaseResult()
    done_ok: set[str] = set(already_done)
    pending = [s for s in steps if s.id not in done_ok]
    in_phase = {s.id for s in steps}
    running: dict[asyncio.Task[StepOutcome], PlannedStep] = {}
    stopping = False
    try:
        while pending or running:
            if not stopping:
                for step in list(pending):
                    if len(running) >= concurrency:
                        break
                    blocked = [n for n in step.needs if n in in_phase and n not in done_ok]
                    broken = [n for n in blocked if n in result.outcomes]
                    if broken and on_skip is not None:
                        pending.remove(step)
                        outcome = on_skip(step, f"needs {broken[0]}, which did not succeed")
                        result.outcomes[step.id] = outcome
                        continue
                    if blocked:
                        continue
                    pending.remove(step)
                    running[asyncio.ensure_future(run(step))] = step
            if not running:
                break  # nothing runnable: the rest waits on failed steps
            finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in finished:
                step = running.pop(task)
                outcome = task.result()
                result.outcomes[step.id] = outcome
                if outcome.ok:
                    done_ok.add(step.id)
                elif result.failed is None:
                    result.failed = outcome
                    result.on_failure = step.on_failure
                    stopping = True
    except BaseException:
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        raise
    result.not_run = [s.id for s in pending]
    if on_skip is not None:
        why = f"not run: {result.failed.step_id} failed" if result.failed else "not run"
        for step in pending:
            result.outcomes[step.id] = on_skip(step, why)
    return result
