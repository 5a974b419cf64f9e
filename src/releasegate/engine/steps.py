"""Running one planned step: options, context, timeout, retries with backoff and jitter.

Each attempt is recorded (``start_step``) before the driver is called and closed
(``finish_step``) before the engine acts on its result.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from pydantic import JsonValue, ValidationError

from releasegate.config.models import Config, Environment
from releasegate.config.release import Release
from releasegate.drivers.api import (
    Options,
    Registry,
    Secrets,
    StepContext,
    StepResult,
)
from releasegate.engine.facts import DeploymentRecords, StoreFacts
from releasegate.engine.plan import TARGET_STEP, Plan, PlannedStep
from releasegate.engine.report import Reporter
from releasegate.errors import ReleasegateError
from releasegate.store.api import Store

Mode = Literal["run", "verify", "undo", "rollback-target"]
FINAL_OK = ("succeeded", "skipped", "warned")


@dataclass
class Runtime:
    """What every step of one deployment shares."""

    config: Config
    env: Environment
    plan: Plan
    store: Store
    registry: Registry
    deployment_id: int
    workdir: Path
    state_dir: Path
    secrets: Secrets
    reporter: Reporter
    rng: random.Random
    holder: str = ""
    """Who holds the environment's lease for this run (``user@host:pid``)."""
    token: int | None = None
    """The fencing token of that lease: every write of this run carries it, and the store
    refuses it once another process has taken the lease over."""
    run: str = field(default_factory=lambda: uuid.uuid4().hex)
    """This run's own id (``RELEASEGATE_RUN``): deployment ids repeat across stores on one
    machine, so what a step left running is matched by it, never by the id alone."""

    def context(self, step_id: str, release: Release | None = None) -> StepContext:
        """The context of one step; ``release`` replaces the plan's (rollback steps see
        the version being restored, see :func:`restoring`)."""
        release = release or self.plan.release

        def progress(line: str) -> None:
            self.reporter.event(
                "step.output", {"step": step_id, "line": self.secrets.redact(line)}
            )

        env = {
            "RELEASEGATE_ENVIRONMENT": release.environment,
            "RELEASEGATE_VERSION": release.version,
            "RELEASEGATE_KIND": release.kind,
            "RELEASEGATE_PREVIOUS_VERSION": release.previous_version or "",
            "RELEASEGATE_DEPLOYMENT_ID": str(self.deployment_id),
            "RELEASEGATE_URL": self.env.url or "",
            "RELEASEGATE_FENCE_TOKEN": "" if self.token is None else str(self.token),
            "RELEASEGATE_STEP": step_id,
            "RELEASEGATE_RUN": self.run,
        }
        return StepContext(
            release=release,
            deployment_id=self.deployment_id,
            workdir=self.workdir,
            state_dir=self.state_dir,
            url=self.env.url,
            secrets=self.secrets,
            facts=StoreFacts(self.store, self.deployment_id),
            progress=progress,
            env=env,
            records=DeploymentRecords(self.config, self.store, self.deployment_id, self.workdir),
        )


def restoring(release: Release, to_version: str) -> Release:
    """The release as the environment's ``rollback.steps`` see it: the version being
    restored (``RELEASEGATE_VERSION``, what ``version-check`` expects), the one rolled back
    from as the previous version, and the kind ``rollback``."""
    return replace(release, version=to_version, kind="rollback", previous_version=release.version)


def _redacted(value: dict[str, JsonValue], redact: Callable[[str], str]) -> dict[str, JsonValue]:
    def walk(item: JsonValue) -> JsonValue:
        if isinstance(item, str):
            return redact(item)
        if isinstance(item, list):
            return [walk(v) for v in item]
        if isinstance(item, dict):
            return {redact(k): walk(v) for k, v in item.items()}
        return item

    return {redact(k): walk(v) for k, v in value.items()}


@dataclass(frozen=True)
class StepOutcome:
    step_id: str
    status: str
    summary: str

    @property
    def ok(self) -> bool:
        return self.status in FINAL_OK


def _options(rt: Runtime, step: PlannedStep, kind: Literal["step", "target"], name: str) -> Options:
    model = rt.registry.options_model(kind, name)
    raw: dict[str, JsonValue]
    if kind == "target":
        assert rt.env.target is not None
        raw = dict(rt.env.target.with_)
    else:
        raw = dict(step.options)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:  # the loader validates too; this guards stale plans
        raise ReleasegateError(f"step {step.id!r}: bad options: {exc.errors()[0]['msg']}") from exc


def _call(rt: Runtime, step: PlannedStep, mode: Mode, to_version: str | None) -> Callable[[StepContext], Awaitable[StepResult]]:
    if step.uses == TARGET_STEP:
        assert rt.env.target is not None
        target = rt.registry.target(rt.env.target.uses)
        opts = _options(rt, step, "target", rt.env.target.uses)
        if mode == "rollback-target" or mode == "undo":
            back_to = to_version or rt.plan.release.previous_version
            if not back_to:
                async def nothing(ctx: StepContext) -> StepResult:
                    return StepResult(False, "no previous version to go back to")
                return nothing
            return lambda ctx: target.rollback(opts, ctx, back_to)
        if mode == "verify":
            async def verify_live(ctx: StepContext) -> StepResult:
                live = await target.current(opts, ctx)
                ok = live == rt.plan.version
                return StepResult(ok, f"live version is {live or 'unknown'}")
            return verify_live
        return lambda ctx: target.deploy(opts, ctx)
    driver = rt.registry.step(step.uses)
    opts = _options(rt, step, "step", step.uses)
    if mode == "undo":
        undo = getattr(driver, "undo", None)
        if not callable(undo):
            async def nothing_to_undo(ctx: StepContext) -> StepResult:
                return StepResult(True, "nothing to undo")
            return nothing_to_undo
        return lambda ctx: undo(opts, ctx)
    if mode == "verify":
        verify = getattr(driver, "verify", None)
        if callable(verify):
            return lambda ctx: verify(opts, ctx)
    return lambda ctx: driver.run(opts, ctx)


async def execute_step(
    rt: Runtime,
    step: PlannedStep,
    *,
    mode: Mode = "run",
    phase: str | None = None,
    to_version: str | None = None,
    release: Release | None = None,
) -> StepOutcome:
    """Run ``step`` to its final status, with its timeout and retries. Never raises for a
    step failure; re-raises cancellation after recording it. ``release``: what the step
    sees instead of the plan's (rollback steps)."""
    record_phase = phase or (step.phase if mode == "run" else f"{step.phase}:{mode}")
    if mode == "run" and step.skip_reason:
        run = rt.store.start_step(rt.deployment_id, step_id=step.id, phase=record_phase, attempt=1, token=rt.token)
        rt.store.finish_step(run.id, status="skipped", summary=step.skip_reason, token=rt.token)
        rt.reporter.event("step.finished", {"step": step.id, "status": "skipped", "summary": step.skip_reason})
        return StepOutcome(step.id, "skipped", step.skip_reason)
    attempts = step.retries + 1 if mode == "run" else 1
    last = StepOutcome(step.id, "failed", "not run")
    for attempt in range(1, attempts + 1):
        run = rt.store.start_step(rt.deployment_id, step_id=step.id, phase=record_phase, attempt=attempt, token=rt.token)
        rt.reporter.event(
            "step.started",
            {"step": step.id, "phase": record_phase, "attempt": attempt, "title": step.title},
        )
        ctx = rt.context(step.id, release)
        status: str
        output = ""
        evidence: dict[str, JsonValue] = {}
        try:
            call = _call(rt, step, mode, to_version)
            result = await asyncio.wait_for(call(ctx), timeout=step.timeout_s)
            status = "succeeded" if result.ok else "failed"
            summary, output, evidence = result.summary, result.output, dict(result.evidence)
        except TimeoutError:
            status, summary = "timed_out", f"timed out after {step.timeout_s:g}s"
        except asyncio.CancelledError:
            rt.store.finish_step(run.id, status="cancelled", summary="cancelled", token=rt.token)
            rt.reporter.event("step.finished", {"step": step.id, "status": "cancelled", "summary": "cancelled"})
            raise
        except ReleasegateError as exc:
            status, summary = "failed", str(exc)
        except Exception as exc:  # noqa: BLE001 — a driver bug fails its step (recorded), never the runner
            status, summary = "failed", f"driver {step.uses!r} raised {type(exc).__name__}: {exc}"
        # one redaction pass where the record is written: summary, output and every string
        # of the evidence, whatever the driver did or forgot
        summary = rt.secrets.redact(summary)
        output = rt.secrets.redact(output)
        evidence = _redacted(evidence, rt.secrets.redact)
        if status != "succeeded" and attempt == attempts and step.on_failure == "warn" and mode == "run":
            status = "warned"
        rt.store.finish_step(run.id, status=status, summary=summary, output=output, evidence=evidence, token=rt.token)
        rt.reporter.event(
            "step.finished", {"step": step.id, "status": status, "summary": summary, "attempt": attempt}
        )
        last = StepOutcome(step.id, status, summary)
        if last.ok:
            return last
        if attempt < attempts:
            delay = step.retry_delay_s * (2 ** (attempt - 1)) * rt.rng.uniform(0.5, 1.5)
            rt.reporter.event("step.retrying", {"step": step.id, "in_s": round(delay, 3)})
            await asyncio.sleep(delay)
    return last
