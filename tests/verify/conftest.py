"""Fixtures of the verification tests.

The analysis tests feed the stages scripted samples through a :class:`Script` source and
run them on a :class:`FakeClock`: what they test is the counting and the decisions,
interval by interval, which real sources cannot produce on demand (a NaN, an error on
the third interval). Every source is also tested against its real server elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pytest
from pydantic import JsonValue

from releasegate.config.models import VerifyStage
from releasegate.drivers.api import MetricUnit, NoOptions, Sample, StepContext
from releasegate.errors import DriverError
from releasegate.testing import make_context
from releasegate.verify.sources import OpenSource
from verify.fault_server import fault_server

__all__ = ["fault_server"]

LATENCY: dict[str, MetricUnit] = {"requests": "", "error_rate": "%", "p50": "ms", "p95": "ms", "p99": "ms"}

Step = Mapping[str, float] | Sample | Exception


class FakeClock:
    """Virtual time: ``sleep`` advances it at once. ``jump`` moves only the wall clock."""

    def __init__(self) -> None:
        self.mono = 1000.0
        self.wall = 1_800_000_000.0

    def monotonic(self) -> float:
        return self.mono

    def time(self) -> float:
        return self.wall

    async def sleep(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += seconds

    def jump(self, seconds: float) -> None:
        self.wall += seconds


class Script:
    """A source that returns the next scripted step each interval (the last one again
    when the script runs out); an exception step is raised."""

    name: ClassVar[str] = "script"
    Options: ClassVar[type[NoOptions]] = NoOptions

    def __init__(self, steps: Sequence[Step], units: Mapping[str, MetricUnit], clock: FakeClock) -> None:
        self.steps = list(steps)
        self.units = dict(units)
        self.clock = clock
        self.calls = 0
        self.closed = False

    def metrics(self, options: Any) -> Mapping[str, MetricUnit]:
        return self.units

    async def sample(self, options: Any, ctx: StepContext, *, seconds: float) -> Sample:
        step = self.steps[min(self.calls, len(self.steps) - 1)]
        self.calls += 1
        await self.clock.sleep(seconds)
        if isinstance(step, Exception):
            raise step
        if isinstance(step, Sample):
            return step
        return Sample(at=self.clock.time(), values=dict(step))

    async def close(self) -> None:
        self.closed = True


class Scripts:
    """A SourceFactory of :class:`Script` sources, by name."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.scripts: dict[str, Script] = {}
        self.opened: list[str] = []

    def add(self, name: str, steps: Sequence[Step], units: Mapping[str, MetricUnit] = LATENCY) -> Script:
        self.scripts[name] = Script(steps, units, self.clock)
        return self.scripts[name]

    def __call__(self, name: str, options: Mapping[str, JsonValue]) -> OpenSource:
        if name not in self.scripts:
            raise DriverError(f"no script for {name}")
        self.opened.append(name)
        return OpenSource(name=name, driver=self.scripts[name], options=NoOptions(), ctx=make_context())


def stage(**fields: object) -> VerifyStage:
    """A stage of 10 one-second intervals reading the ``probe`` script, plus ``fields``."""
    raw: dict[str, object] = {"stage": "immediate", "for": "10s", "every": "1s"}
    raw.update({k.rstrip("_"): v for k, v in fields.items()})
    return VerifyStage.model_validate(raw)


def good(**extra: float) -> dict[str, float]:
    return {"requests": 100.0, "error_rate": 0.0, "p50": 40.0, "p95": 90.0, "p99": 120.0, **extra}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def scripts(clock: FakeClock) -> Scripts:
    return Scripts(clock)
