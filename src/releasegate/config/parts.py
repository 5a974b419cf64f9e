"""The pieces of an environment the cross-checks need, from its model or salvaged.

An environment that does not validate as a whole is still checked piece by piece: each
step's id, ``uses``, ``with``, ``needs`` and ``if`` are taken from the raw data when they
have the right type, so a step with a bad ``timeout`` still has its unknown driver and
its dangling ``needs`` reported in the same run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeVar

from pydantic import BaseModel, ValidationError

from releasegate.config.document import KeyPath
from releasegate.config.models import Environment, Step, TargetRef, Window

M = TypeVar("M", bound=BaseModel)
PhaseName = Literal["gates", "deploy", "post", "rollback"]
PHASES: tuple[PhaseName, ...] = ("gates", "deploy", "post")
"""The phases a deployment runs in order (rollback steps run only on rollback)."""


def valid(model: type[M], raw: object) -> M | None:
    """``raw`` as a ``model``, or None (its errors are reported by the whole file's validation)."""
    try:
        return model.model_validate(raw)
    except ValidationError:
        return None


@dataclass(frozen=True)
class StepParts:
    """One step as far as it can be read; ``None`` where a field is missing or mistyped."""

    path: KeyPath
    """Where the step is, relative to its environment: ``("deploy", 2)``."""
    phase: PhaseName
    id: str | None
    uses: str | None
    with_: object
    needs: tuple[str, ...]
    if_: str | None

    @classmethod
    def of(cls, path: KeyPath, phase: PhaseName, step: Step) -> StepParts:
        return cls(path, phase, step.id, step.uses, step.with_, tuple(step.needs), step.if_)

    @classmethod
    def salvage(cls, path: KeyPath, phase: PhaseName, raw: object) -> StepParts:
        if not isinstance(raw, dict):
            return cls(path, phase, None, None, None, (), None)
        needs = raw.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        return cls(
            path,
            phase,
            _text(raw.get("id")),
            _text(raw.get("uses")),
            raw.get("with", {}),
            tuple(n for n in needs if isinstance(n, str)) if isinstance(needs, list) else (),
            _text(raw.get("if")),
        )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


@dataclass
class EnvironmentParts:
    """What the checks need of one environment."""

    steps: list[StepParts] = field(default_factory=list)
    target: TargetRef | None = None
    has_target: bool = False
    """A ``target`` is written (valid or not): ``uses: target`` steps have one to use."""
    promote_from: str | None = None
    freezes: list[str] = field(default_factory=list)
    windows: list[tuple[KeyPath, Window]] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.steps if s.id is not None]

    @classmethod
    def of(cls, env: Environment) -> EnvironmentParts:
        steps = [
            StepParts.of((phase, i), phase, step)
            for phase in PHASES
            for i, step in enumerate(getattr(env, phase))
        ]
        steps += [
            StepParts.of(("rollback", "steps", i), "rollback", s)
            for i, s in enumerate(env.rollback.steps)
        ]
        windows: list[tuple[KeyPath, Window]] = []
        if isinstance(env.window, list):
            windows = [(("window", j), w) for j, w in enumerate(env.window)]
        elif env.window is not None:
            windows = [(("window",), env.window)]
        return cls(
            steps,
            env.target,
            env.target is not None,
            env.promote_from,
            list(env.freezes),
            windows,
        )

    @classmethod
    def salvage(cls, raw: object) -> EnvironmentParts:
        found = cls()
        if not isinstance(raw, dict):
            return found
        rollback = raw.get("rollback")
        lists: list[tuple[KeyPath, PhaseName, object]] = [
            ((phase,), phase, raw.get(phase)) for phase in PHASES
        ]
        steps = rollback.get("steps") if isinstance(rollback, dict) else None
        lists.append((("rollback", "steps"), "rollback", steps))
        for where, phase, items in lists:
            for i, item in enumerate(items if isinstance(items, list) else []):
                found.steps.append(StepParts.salvage((*where, i), phase, item))
        found.target = valid(TargetRef, raw.get("target"))
        found.has_target = raw.get("target") is not None
        promote_from = raw.get("promote_from")
        found.promote_from = promote_from if isinstance(promote_from, str) else None
        freezes = raw.get("freezes")
        freezes = [freezes] if isinstance(freezes, str) else freezes
        found.freezes = (
            [f for f in freezes if isinstance(f, str)] if isinstance(freezes, list) else []
        )
        window = raw.get("window")
        candidates: list[tuple[KeyPath, object]] = (
            [((), window)]
            if not isinstance(window, list)
            else [((j,), w) for j, w in enumerate(window)]
        )
        for where, item in candidates:
            parsed = valid(Window, item)
            if parsed is not None:
                found.windows.append((("window", *where), parsed))
        return found
