"""Running verification stages: read the sources interval by interval, judge, decide.

Stages run in order. Each interval, every source of the stage is read at once; the
samples go to ``on_sample`` (for the store) before they are judged, and a line of
progress to ``on_progress``. A stage stops early when it fails, turns inconclusive, or a
``rollback.when`` trigger holds; the result says what the engine should do.

Resuming after a crash: pass the samples recorded so far as ``resume``. Their intervals
are judged again (not re-measured); the stage in progress continues with the intervals
it has left, and a decision the recorded samples already reach is returned at once.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from releasegate.config.models import VerifyStage
from releasegate.errors import DriverError
from releasegate.verify.baseline import Baseline
from releasegate.verify.result import Action, Outcome, StageResult, VerificationResult
from releasegate.verify.rules import (
    fixed_baseline,
    stage_rules,
    stage_sources,
    stage_triggers,
    units_of,
)
from releasegate.verify.samples import StageSample
from releasegate.verify.sources import Clock, OpenSource, SourceFactory, SystemClock
from releasegate.verify.tally import Decision, StageTally

FIRST_DEPLOYMENT = (
    "no baseline (the first verified release here): absolute thresholds only, relative "
    "checks are skipped"
)


@dataclass(frozen=True)
class StageProgress:
    """One interval done: what the terminal shows beside each threshold."""

    stage: str
    done: int
    planned: int
    elapsed_s: float
    for_s: float
    values: Mapping[str, float]
    checks: Mapping[str, str]
    outcomes: Mapping[str, Outcome]
    replayed: bool = False


@dataclass
class _Run:
    sources: SourceFactory
    baseline: Baseline | None
    when: Mapping[str, str]
    on_sample: Callable[[StageSample], None]
    on_progress: Callable[[StageProgress], None]
    clock: Clock
    recorded: dict[str, dict[int, list[StageSample]]] = field(default_factory=dict)


def _intervals(stage: VerifyStage) -> tuple[int, float, float]:
    for_s = stage.for_.total_seconds()
    every_s = min(stage.every.total_seconds(), for_s) or for_s
    return max(1, math.ceil(for_s / every_s - 1e-9)), every_s, for_s


async def _read(source: OpenSource, stage: str, interval: int, seconds: float, clock: Clock) -> StageSample:
    error: str | None = None
    values: dict[str, float] = {}
    missing: dict[str, str] = {}
    caveat: str | None = None
    at_least: frozenset[str] = frozenset()
    try:
        sample = await source.read(seconds)
    except DriverError as exc:
        error = str(exc)
    else:
        caveat = sample.caveat
        at_least = sample.at_least
        missing = dict(sample.missing)
        for metric, value in sample.values.items():
            if math.isfinite(value):
                values[metric] = float(value)
            else:
                missing[metric] = f"the source answered {value}"
    return StageSample(
        stage=stage, source=source.name, interval=interval, at=clock.time(), seconds=seconds,
        values=values, missing=missing, error=error, caveat=caveat, at_least=at_least,
    )  # fmt: skip


def _progress(stage: VerifyStage, tally: StageTally, done: int, planned: int, elapsed: float, samples: Sequence[StageSample], *, replayed: bool) -> StageProgress:
    values: dict[str, float] = {}
    for s in samples:
        values.update(s.values)
    outcomes: dict[str, Outcome] = dict(tally.last_outcome)
    return StageProgress(
        stage=stage.stage, done=done, planned=planned, elapsed_s=elapsed,
        for_s=stage.for_.total_seconds(), values=values, checks=dict(stage.check),
        outcomes=outcomes, replayed=replayed,
    )  # fmt: skip


async def _run_stage(run: _Run, stage: VerifyStage) -> tuple[StageResult, Decision | None, float | None]:
    planned, every_s, for_s = _intervals(stage)
    opened = [run.sources(name, options) for name, options in stage_sources(stage)]
    try:
        units = units_of(stage, {o.name: o.metrics for o in opened})
        base = run.baseline
        fixed = fixed_baseline(stage, units)
        if fixed:
            base = (base or Baseline(label="fixed")).with_fixed(fixed)
        tally = StageTally(
            stage, stage_rules(stage, units), stage_triggers(stage, run.when, units), base,
            planned=planned,
        )  # fmt: skip
        started: dict[int, float] = {}
        walls: dict[int, float] = {}
        decision: Decision | None = None
        done = 0
        for k, samples in sorted(run.recorded.get(stage.stage, {}).items()):
            if k != done or k >= planned:
                break
            walls[k] = min(s.start for s in samples)
            decision = tally.add(k, samples)
            done = k + 1
            run.on_progress(_progress(stage, tally, done, planned, done * every_s, samples, replayed=True))
            if decision:
                break
        begun = run.clock.monotonic() - done * every_s
        while decision is None and done < planned:
            seconds = min(every_s, for_s - done * every_s)
            started[done] = t0 = run.clock.monotonic()
            samples = list(await asyncio.gather(*(_read(o, stage.stage, done, seconds, run.clock) for o in opened)))
            wait = t0 + seconds - run.clock.monotonic()
            if wait > 0:  # a source that failed at once must not shorten the interval
                await run.clock.sleep(wait)
            for s in samples:
                run.on_sample(s)
            decision = tally.add(done, samples)
            done += 1
            elapsed = run.clock.monotonic() - begun
            run.on_progress(_progress(stage, tally, done, planned, elapsed, samples, replayed=False))
    finally:
        for o in opened:
            await o.close()
    result, final = tally.result()
    detection = None
    bad = tally.first_bad()
    if final is not None and bad is not None:
        if bad in started:
            detection = run.clock.monotonic() - started[bad]
        elif bad in walls:
            detection = run.clock.time() - walls[bad]
    return result, final, detection


def _action(stage: VerifyStage, decision: Decision) -> Action:
    if decision.verdict == "fail" and (decision.trigger or stage.on_fail == "rollback"):
        return "rollback"
    return "pause"


async def run_stages(
    stages: Sequence[VerifyStage],
    *,
    sources: SourceFactory,
    baseline: Baseline | None,
    rollback_when: Mapping[str, str] | None = None,
    on_sample: Callable[[StageSample], None] | None = None,
    on_progress: Callable[[StageProgress], None] | None = None,
    resume: Sequence[StageSample] = (),
    clock: Clock | None = None,
) -> VerificationResult:
    """Run ``stages`` in order and decide; see the module docstring.

    A stage names a source no registry knows, a metric no source reports, or a condition
    in the wrong unit: ConfigError before anything is measured in that stage.
    """
    run = _Run(
        sources=sources, baseline=baseline, when=dict(rollback_when or {}),
        on_sample=on_sample or (lambda _s: None), on_progress=on_progress or (lambda _p: None),
        clock=clock or SystemClock(),
    )  # fmt: skip
    for sample in resume:
        run.recorded.setdefault(sample.stage, {}).setdefault(sample.interval, []).append(sample)
    notes = () if baseline is not None else (FIRST_DEPLOYMENT,)
    label = baseline.label if baseline is not None else None
    results: list[StageResult] = []
    for stage in stages:
        result, decision, detection = await _run_stage(run, stage)
        results.append(result)
        if decision is not None:
            trigger = decision.finding if decision.trigger else None
            return VerificationResult(
                verdict=decision.verdict, action=_action(stage, decision),
                reason=f"stage {stage.stage} {'failed' if decision.verdict == 'fail' else 'inconclusive'}: {decision.reason}",
                stages=tuple(results), baseline=label, trigger=trigger,
                decisive=decision.finding, detection_s=detection, notes=notes,
            )  # fmt: skip
    names = ", ".join(r.stage for r in results)
    return VerificationResult(
        verdict="pass", action="continue", reason=f"every stage passed ({names})",
        stages=tuple(results), baseline=label, notes=notes,
    )  # fmt: skip
