"""Opening a stage's metric sources: drivers from the registry, options validated, one
instance per stage so that a source may keep state between intervals."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from pydantic import JsonValue, ValidationError

from releasegate.drivers.api import (
    MetricUnit,
    Options,
    Registry,
    Sample,
    SourceDriver,
    StepContext,
    UnknownDriver,
)
from releasegate.errors import ConfigError, DriverError

READ_GRACE_S = 30.0
"""How long past its interval a source may take to answer before it counts as unreadable."""


class Clock(Protocol):
    """Time as verification sees it: durations from ``monotonic`` (immune to clock jumps),
    wall time only to label intervals."""

    def monotonic(self) -> float: ...

    def time(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clocks."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass
class OpenSource:
    """A source driver bound to its options and context for one stage."""

    name: str
    driver: SourceDriver
    options: Options
    ctx: StepContext

    @property
    def metrics(self) -> Mapping[str, MetricUnit]:
        return self.driver.metrics(self.options)

    async def read(self, seconds: float) -> Sample:
        """One interval's sample; a source that cannot be read (or does not answer within
        :data:`READ_GRACE_S` of the interval's end) raises DriverError."""
        try:
            async with asyncio.timeout(seconds + READ_GRACE_S):
                return await self.driver.sample(self.options, self.ctx, seconds=seconds)
        except TimeoutError:
            raise DriverError(
                f"{self.name} gave no sample within {seconds + READ_GRACE_S:g}s"
            ) from None

    async def close(self) -> None:
        close = getattr(self.driver, "close", None)
        if callable(close):
            await close()


class SourceFactory(Protocol):
    """Opens the source ``name`` with ``options`` (the stage's ``with``) for one stage."""

    def __call__(self, name: str, options: Mapping[str, JsonValue]) -> OpenSource: ...


class RegistrySources:
    """A :class:`SourceFactory` over a driver registry and a step context (the
    environment's url, secrets, working directory)."""

    def __init__(self, registry: Registry, ctx: StepContext) -> None:
        self.registry = registry
        self.ctx = ctx

    def __call__(self, name: str, options: Mapping[str, JsonValue]) -> OpenSource:
        try:
            driver = self.registry.source(name)
        except UnknownDriver as exc:
            known = ", ".join(exc.known) or "none"
            raise ConfigError(f"no metric source named {name!r} (known: {known})") from None
        try:
            parsed = driver.Options.model_validate(dict(options))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "options"
            raise ConfigError(f"source {name}: {where}: {first['msg']}") from None
        return OpenSource(name=name, driver=driver, options=parsed, ctx=self.ctx)
