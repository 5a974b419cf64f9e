"""Compile config + environment + version + kind into an immutable :class:`Plan`.

Printing a plan is the dry run: nothing here touches the store or runs a driver.

Ordering: in ``gates`` steps are independent unless they say ``needs``; in ``deploy``,
``post`` and the rollback steps, a step without ``needs`` runs after the step written
before it, as a checklist is read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property, lru_cache
from typing import Literal

from pydantic import JsonValue, ValidationError

from releasegate.config.expressions import Condition, compile_condition
from releasegate.config.models import Config, Environment, Step, VerifyStage
from releasegate.config.timespec import did_you_mean
from releasegate.config.types import MAX_DURATION, format_duration
from releasegate.drivers.api import DriverKind, Registry, Release, UnknownDriver
from releasegate.errors import ConfigError, Problem

PhaseName = Literal["gates", "deploy", "verify", "post", "rollback"]
TARGET_STEP = "target"
"""``uses: target`` deploys with the environment's target."""


@dataclass(frozen=True)
class PlannedStep:
    id: str
    title: str
    phase: PhaseName
    uses: str
    options: Mapping[str, JsonValue]
    needs: tuple[str, ...]
    timeout_s: float
    retries: int
    retry_delay_s: float
    on_failure: str
    checklist: tuple[str, ...]
    condition: str | None = None
    skip_reason: str | None = None
    """Set when the step's ``if`` is false for this release: it is recorded as skipped."""
    safe_to_rerun: bool = True
    undo: str = ""
    """What rollback does about this step (empty: nothing)."""

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "id": self.id,
            "title": self.title,
            "phase": self.phase,
            "uses": self.uses,
            "needs": list(self.needs),
            "timeout_s": self.timeout_s,
            "retries": self.retries,
            "on_failure": self.on_failure,
            "checklist": list(self.checklist),
            "condition": self.condition,
            "skip_reason": self.skip_reason,
            "safe_to_rerun": self.safe_to_rerun,
            "undo": self.undo,
        }


@dataclass(frozen=True)
class PlannedVerify:
    stage: str
    for_s: float
    check: Mapping[str, str]

    def to_json(self) -> dict[str, JsonValue]:
        return {"stage": self.stage, "for_s": self.for_s, "check": dict(self.check)}


@dataclass(frozen=True)
class Plan:
    """Everything one deployment will do, in order, before it does it."""

    environment: str
    version: str
    kind: str
    release: Release
    gates: tuple[PlannedStep, ...]
    deploy: tuple[PlannedStep, ...]
    verify: tuple[PlannedVerify, ...]
    post: tuple[PlannedStep, ...]
    rollback_steps: tuple[PlannedStep, ...]
    concurrency: int
    target: str | None
    emergency: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    def phases(self) -> list[tuple[PhaseName, tuple[PlannedStep, ...]]]:
        return [("gates", self.gates), ("deploy", self.deploy), ("post", self.post)]

    def all_steps(self) -> list[PlannedStep]:
        return [*self.gates, *self.deploy, *self.post, *self.rollback_steps]

    def step(self, step_id: str) -> PlannedStep:
        """The planned step ``step_id`` (the first of that id); KeyError if none."""
        return self._by_id[step_id]

    @cached_property
    def _by_id(self) -> dict[str, PlannedStep]:
        found: dict[str, PlannedStep] = {}
        for step in self.all_steps():
            found.setdefault(step.id, step)
        return found

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "environment": self.environment,
            "version": self.version,
            "kind": self.kind,
            "previous_version": self.release.previous_version,
            "commit": self.release.commit,
            "changed_paths": None
            if self.release.changed_paths is None
            else list[JsonValue](self.release.changed_paths),
            "flags": list[JsonValue](sorted(self.release.flags)),
            "emergency": self.emergency,
            "target": self.target,
            "concurrency": self.concurrency,
            "gates": [s.to_json() for s in self.gates],
            "deploy": [s.to_json() for s in self.deploy],
            "verify": [v.to_json() for v in self.verify],
            "post": [s.to_json() for s in self.post],
            "rollback": [s.to_json() for s in self.rollback_steps],
            "notes": list(self.notes),
        }


def environment_of(config: Config, name: str) -> Environment:
    """The named environment, or a ConfigError that lists the known ones."""
    try:
        return config.environments[name]
    except KeyError:
        known = ", ".join(sorted(config.environments)) or "none"
        raise ConfigError(f"no environment named {name!r} (known: {known})") from None


def signature_steps(config: Config, env_name: str, kind: str, phase: str) -> list[Step]:
    """The ``confirm`` steps that hold a deployment until people sign what the config's
    required confirmations of ``phase`` ask of this environment and kind."""
    steps = []
    for conf in config.confirmations:
        if not conf.required or conf.phase != phase or kind not in conf.kinds:
            continue
        if conf.environments and env_name not in conf.environments:
            continue
        steps.append(
            Step.model_validate(
                {
                    "id": f"sign.{conf.id}",
                    "name": f"signed: {conf.text}",
                    "uses": "confirm",
                    "with": {
                        "item": conf.id,
                        "text": conf.text,
                        "by": list(conf.by),
                        "timeout": format_duration(conf.wait),
                    },
                    # a minute more than the signature's wait, within what a config may say
                    "timeout": format_duration(min(conf.wait + timedelta(minutes=1), MAX_DURATION)),
                }
            )
        )
    return steps


def compile_plan(
    config: Config,
    env_name: str,
    release: Release,
    registry: Registry,
    *,
    emergency: bool = False,
    signatures: bool = True,
) -> Plan:
    """The plan for deploying ``release`` to ``env_name``; ``signatures`` adds the steps that
    wait for required confirmations (``releasegate check`` leaves them out).

    Every step's driver and options are checked against ``registry`` (the loader checks
    them only when it is handed a catalog): a :class:`ConfigError` lists every problem,
    so a deployment never starts with a step that cannot run. Linear in the steps.
    """
    env = environment_of(config, env_name)
    notes: list[str] = []
    gates = list(env.gates)
    if emergency and config.emergency.gates:
        keep = set(config.emergency.gates)
        dropped = [g.id for g in gates if g.id not in keep]
        gates = [g for g in gates if g.id in keep]
        if dropped:
            notes.append("emergency fast track: skipping gates " + ", ".join(dropped))
    deploy = list(env.deploy)
    if signatures:
        gates += signature_steps(config, env_name, release.kind, "gates")
        deploy = signature_steps(config, env_name, release.kind, "deploy") + deploy
    compiler = _Compiler(release, registry, _where(env_name, env))
    gate_steps = compiler.steps(gates, "gates", sequential=False)
    deploy_steps = compiler.steps(deploy, "deploy", sequential=True)
    post_steps = compiler.steps(env.post, "post", sequential=True)
    rollback_steps = compiler.steps(env.rollback.steps, "rollback", sequential=True)
    known = {s.id for s in gate_steps}
    for steps in (deploy_steps, post_steps):
        known |= {s.id for s in steps}  # a step may need steps of its own or an earlier phase
        for s in steps:
            missing = [n for n in s.needs if n not in known]
            if missing:
                raise ConfigError(f"step {s.id!r} needs {missing[0]!r}, which is not in this plan")
    if any(s.uses == TARGET_STEP for s in deploy_steps):
        if env.target is None:
            raise ConfigError(
                f"environments.{env_name}: a deploy step uses the target, but no target is configured"
            )
        compiler.check_driver(
            f"environments.{env_name}.target", "target", env.target.uses, env.target.with_
        )
    if compiler.problems:
        raise ConfigError(compiler.problems)
    if release.changed_paths is None and any(
        s.condition and "changed(" in s.condition for s in [*gate_steps, *deploy_steps, *post_steps]
    ):
        notes.append(
            "what changed since the live version is unknown (no git repository or no "
            "recorded commit): changed(...) conditions count as true"
        )
    cap_s: float | None = None
    feeds = any(e.promote_from == env_name for e in config.environments.values())
    if emergency and feeds and env.verify:
        cap_s = config.emergency.staging_verify_max.total_seconds()
        notes.append(
            "emergency: verification here is capped at "
            f"{format_duration(config.emergency.staging_verify_max)} in all"
        )
    if release.kind == "hotfix" or emergency:
        notes.append(
            f"hotfix: monitor closely for {format_duration(config.emergency.monitor_for)}, "
            f"post-mortem within {format_duration(config.emergency.postmortem_within)}"
        )
    return Plan(
        environment=env_name,
        version=release.version,
        kind=release.kind,
        release=release,
        gates=tuple(gate_steps),
        deploy=tuple(deploy_steps),
        verify=tuple(_compile_verify(env.verify, cap_s=cap_s)),
        post=tuple(post_steps),
        rollback_steps=tuple(rollback_steps),
        concurrency=env.concurrency,
        target=env.target.uses if env.target else None,
        emergency=emergency,
        notes=tuple(notes),
    )


def _where(env_name: str, env: Environment) -> dict[str, str]:
    """Step id → where the step is written, for error messages."""
    found: dict[str, str] = {}
    lists = [("gates", env.gates), ("deploy", env.deploy), ("post", env.post)]
    lists.append(("rollback.steps", env.rollback.steps))
    for key, steps in lists:
        for i, step in enumerate(steps):
            found.setdefault(step.id, f"environments.{env_name}.{key}[{i}]")
    return found


@lru_cache(maxsize=512)
def _condition(text: str) -> Condition:
    return compile_condition(text)  # many steps share one expression: parse it once


class _Compiler:
    """Compiles steps and gathers every problem of their drivers and options."""

    def __init__(self, release: Release, registry: Registry, where: dict[str, str]) -> None:
        self.release, self.registry, self.where = release, registry, where
        self.problems: list[Problem] = []

    def check_driver(
        self, path: str, kind: DriverKind, name: str, options: Mapping[str, JsonValue]
    ) -> type | None:
        """The driver's class, with its options checked; None (and a problem) if unknown."""
        try:
            cls = self.registry.get(kind, name)
        except UnknownDriver as exc:
            hint = did_you_mean(name, exc.known)
            self.problems.append(Problem(f"unknown {kind} driver {name!r}{hint}", f"{path}.uses"))
            return None
        try:
            cls.Options.model_validate(dict(options))
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                inner = "".join(
                    f"[{part}]" if isinstance(part, int) else f".{part}" for part in err["loc"]
                )
                self.problems.append(Problem(str(err["msg"]), f"{path}.with{inner}"))
        return cls

    def steps(
        self, steps: Sequence[Step], phase: PhaseName, *, sequential: bool
    ) -> list[PlannedStep]:
        planned: list[PlannedStep] = []
        previous: str | None = None
        for step in steps:
            planned.append(self._step(step, phase, previous if sequential else None))
            previous = step.id
        return planned

    def _step(self, step: Step, phase: PhaseName, previous: str | None) -> PlannedStep:
        needs = tuple(step.needs)
        if not needs and previous is not None:
            needs = (previous,)
        skip = None
        if step.if_:
            try:
                if not _condition(step.if_).evaluate(self.release):
                    skip = f"if: {step.if_} is false"
            except ValueError as exc:
                raise ConfigError(f"step {step.id!r}: bad if expression: {exc}") from None
        safe, undo = True, "swap back to the previous version"
        if step.uses != TARGET_STEP:
            where = self.where.get(step.id, f"step {step.id}")
            driver_cls = self.check_driver(where, "step", step.uses, step.with_)
            safe = bool(getattr(driver_cls, "safe_to_rerun", True))
            describe = getattr(driver_cls, "describe_undo", None)
            if callable(describe):
                undo = str(describe(dict(step.with_)))
            else:
                undo = "undo" if hasattr(driver_cls, "undo") else ""
        return PlannedStep(
            id=step.id,
            title=step.title,
            phase=phase,
            uses=step.uses,
            options=dict(step.with_),
            needs=needs,
            timeout_s=step.timeout.total_seconds(),
            retries=step.retries,
            retry_delay_s=step.retry_delay.total_seconds(),
            on_failure=step.on_failure,
            checklist=tuple(step.checklist),
            condition=step.if_,
            skip_reason=skip,
            safe_to_rerun=safe,
            undo=undo,
        )


def _compile_verify(stages: Sequence[VerifyStage], *, cap_s: float | None) -> list[PlannedVerify]:
    """The verify stages; with ``cap_s`` their durations add up to at most that (the
    emergency path's "verify fix in staging, 15 minutes max"): later stages are cut first."""
    planned: list[PlannedVerify] = []
    left = cap_s
    for v in stages:
        duration = v.for_.total_seconds()
        if left is not None:
            duration = min(duration, left)
            left -= duration
            if duration <= 0:
                continue
        planned.append(PlannedVerify(stage=v.stage, for_s=duration, check=dict(v.check)))
    return planned
