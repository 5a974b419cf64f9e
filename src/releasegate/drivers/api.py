"""The driver interfaces and their registry.

A driver is a small class registered by name under one of four kinds:

* ``step``     — a gate, deploy or rollback step (``uses: http-check``),
* ``target``   — how a version is deployed and undeployed (``target: {uses: local}``),
* ``source``   — a metric source for verification (``probe``, ``prometheus``),
* ``notifier`` — where events are announced.

Each declares its options as a pydantic model (``Options``) so that the whole config is
validated when it is loaded, not when a step runs. Built-in drivers register through the
same entry-point group as third-party ones (``releasegate.drivers``): an entry point names
a callable ``register(registry: Registry) -> None``.

The engine imports only this module, never a concrete driver.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, JsonValue

# Re-exported: plugin authors import them from here.
from releasegate.config.catalog import DRIVER_KINDS as DRIVER_KINDS
from releasegate.config.catalog import DriverKind as DriverKind

if TYPE_CHECKING:
    from releasegate.config.catalog import DriverCatalog
from releasegate.config.release import Release as Release

ENTRY_POINT_GROUP = "releasegate.drivers"


class Options(BaseModel):
    """Base of every driver's options model: unknown keys are errors.

    Validators are built on first use (``defer_build``): importing this module (every
    command does) builds none.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


class NoOptions(Options):
    """For drivers that take no options."""


AnyOptions = Options
"""Alias usable inside the Protocols, whose ``Options`` ClassVar shadows the class."""


Progress = Callable[[str], None]
"""A driver reports a line of progress (shown live, recorded as an event)."""


class Secrets(Protocol):
    def resolve(self, value: str) -> str:
        """Replace ``${env:NAME}`` / ``${file:PATH}`` references with their values."""
        ...

    def redact(self, text: str) -> str:
        """Replace every resolved secret value in ``text`` with ``***``."""
        ...


class Facts(Protocol):
    """What a driver may read from, and add to, the store while it runs."""

    def record_backup(
        self,
        *,
        location: str,
        checksum: str,
        size: int,
        duration_s: float,
        kind: str,
        source: str,
    ) -> int:
        """Catalogue a backup; returns its id."""
        ...

    def latest_backup(self, *, source: str) -> BackupInfo | None: ...

    def is_confirmed(self, item: str) -> ConfirmationInfo | None:
        """Whether a person has signed ``item`` for this deployment."""
        ...


class Records(Protocol):
    """What the ``notify`` step reads of the config and the deployment's records: a
    driver never opens the store or the config itself."""

    def receiver(self, name: str) -> str | None:
        """The URL (a secret reference, unresolved) of the ``notify:`` route ``name``."""
        ...

    def announcement(self) -> str:
        """The deployment's announcement from its records so far, in the config's
        ``announcement.template`` (else the built-in text); still running counts as
        deployed now."""
        ...


@dataclass(frozen=True)
class BackupInfo:
    id: int
    location: str
    checksum: str
    size: int
    created_at: float
    """Unix time."""
    kind: str
    source: str
    deployment_id: int | None = None


@dataclass(frozen=True)
class ConfirmationInfo:
    item: str
    user: str
    at: float
    note: str | None = None


@dataclass(frozen=True)
class StepContext:
    """Everything a step may use besides its options."""

    release: Release
    deployment_id: int
    workdir: Path
    """The directory of the config file: relative paths are resolved against it."""
    state_dir: Path
    """Where drivers keep files (backups, logs): ``.releasegate/`` beside the config."""
    url: str | None
    secrets: Secrets
    facts: Facts
    progress: Progress
    env: Mapping[str, str] = field(default_factory=dict)
    """Extra environment variables for commands (RELEASEGATE_VERSION, ...)."""
    records: Records | None = None
    """The config's receivers and the announcement (None outside a deployment)."""


@dataclass(frozen=True)
class StepResult:
    """The outcome of one attempt of a step. ``evidence`` is what the checklist shows."""

    ok: bool
    summary: str
    output: str = ""
    """Captured output, already size-capped and redacted."""
    evidence: Mapping[str, JsonValue] = field(default_factory=dict)


@runtime_checkable
class StepDriver(Protocol):
    """A gate, deploy or rollback step."""

    name: ClassVar[str]
    Options: ClassVar[type[Options]]
    safe_to_rerun: ClassVar[bool]
    """May the engine run it again after an interrupted attempt? Unsafe steps are
    re-checked with :meth:`verify` instead."""

    async def run(self, options: AnyOptions, ctx: StepContext) -> StepResult: ...


class Reversible(Protocol):
    """A step that can undo what it did (a migration's ``down``, a maintenance switch)."""

    async def undo(self, options: AnyOptions, ctx: StepContext) -> StepResult: ...


class Verifiable(Protocol):
    """A step whose effect can be checked without redoing it (used on resume)."""

    async def verify(self, options: AnyOptions, ctx: StepContext) -> StepResult: ...


@runtime_checkable
class TargetDriver(Protocol):
    """Deploys and undeploys versions of an application."""

    name: ClassVar[str]
    Options: ClassVar[type[Options]]

    async def deploy(self, options: AnyOptions, ctx: StepContext) -> StepResult:
        """Make ``ctx.release.version`` live."""
        ...

    async def rollback(self, options: AnyOptions, ctx: StepContext, to_version: str) -> StepResult:
        """Make ``to_version`` live again."""
        ...

    async def current(self, options: AnyOptions, ctx: StepContext) -> str | None:
        """The version serving now, if the target can tell."""
        ...


MetricUnit = Literal["ms", "%", "MB", ""]
"""The unit a metric's values are in: milliseconds, percent, megabytes, or a plain number.
Conditions are converted to it (``"< 1s"`` against a metric in ms means 1000)."""


@dataclass(frozen=True)
class Sample:
    """Metric values observed over one interval.

    A metric absent from ``values`` had **no data** in the interval (``missing`` may say
    why: no series, NaN, no process matched); that is never the same as 0. A source that
    cannot be read at all raises :class:`~releasegate.errors.DriverError` instead.
    ``caveat`` set means the figures describe the observer rather than the service (the
    probe could not keep its schedule): checks on them are inconclusive, with that reason.
    """

    at: float
    """Unix time at the end of the interval."""
    values: Mapping[str, float]
    missing: Mapping[str, str] = field(default_factory=dict)
    caveat: str | None = None
    at_least: frozenset[str] = frozenset()
    """Metrics whose value is only a lower bound (requests timed out: the true p99 is at
    least the timeout). ``p99 < 200ms`` fails on such a value above 200 ms, and is
    inconclusive on one below it."""


@runtime_checkable
class SourceDriver(Protocol):
    """A metric source for verification (``probe``, ``prometheus``, ``system``, ...).

    The analysis makes one instance per stage, calls :meth:`sample` once per interval and
    :meth:`close` (if the class has one) when the stage ends, so a source may keep state
    between intervals (the probe keeps its load running; ``log-scan`` its file offset).
    """

    name: ClassVar[str]
    Options: ClassVar[type[Options]]

    def metrics(self, options: AnyOptions) -> Mapping[str, MetricUnit]:
        """The metrics this source reports with these options, and their units."""
        ...

    async def sample(self, options: AnyOptions, ctx: StepContext, *, seconds: float) -> Sample:
        """Observe the next ``seconds`` and return that interval's figures."""
        ...


@runtime_checkable
class NotifierDriver(Protocol):
    name: ClassVar[str]
    Options: ClassVar[type[Options]]

    async def send(self, options: AnyOptions, *, title: str, body: str) -> None: ...


DriverClass = type[StepDriver] | type[TargetDriver] | type[SourceDriver] | type[NotifierDriver]


class UnknownDriver(LookupError):
    def __init__(self, kind: DriverKind, name: str, known: Iterable[str]) -> None:
        self.kind = kind
        self.name = name
        self.known = sorted(known)
        super().__init__(f"no {kind} driver named {name!r}")


class Registry:
    """Drivers by kind and name. Build one with :func:`load_registry`; tests make their own.

    It is the :class:`~releasegate.config.catalog.DriverCatalog` the loader checks ``uses``
    and ``with`` against.
    """

    def __init__(self) -> None:
        self._drivers: dict[DriverKind, dict[str, DriverClass | str]] = {k: {} for k in DRIVER_KINDS}

    def register(self, kind: DriverKind, cls: DriverClass) -> None:
        self._drivers[kind][cls.name] = cls

    def register_lazy(self, kind: DriverKind, name: str, target: str) -> None:
        """Register ``module:Class`` under ``name``; it is imported on first use."""
        self._drivers[kind][name] = target

    def names(self, kind: DriverKind) -> list[str]:
        """The registered names of drivers of ``kind``."""
        return sorted(self._drivers[kind])

    def get(self, kind: DriverKind, name: str) -> DriverClass:
        try:
            found = self._drivers[kind][name]
        except KeyError:
            raise UnknownDriver(kind, name, self._drivers[kind]) from None
        if isinstance(found, str):
            module, _, attr = found.partition(":")
            cls: DriverClass = getattr(importlib.import_module(module), attr)
            if cls.name != name:
                raise LookupError(f"{found} is registered as {name!r} but calls itself {cls.name!r}")
            self._drivers[kind][name] = found = cls
        return found

    def options_model(self, kind: DriverKind, name: str) -> type[Options]:
        """The ``Options`` model of driver ``name`` (imports its module on first use)."""
        return self.get(kind, name).Options

    def step(self, name: str) -> StepDriver:
        cls = self.get("step", name)
        driver = cls()
        assert isinstance(driver, StepDriver)
        return driver

    def target(self, name: str) -> TargetDriver:
        cls = self.get("target", name)
        driver = cls()
        assert isinstance(driver, TargetDriver)
        return driver

    def source(self, name: str) -> SourceDriver:
        cls = self.get("source", name)
        driver = cls()
        assert isinstance(driver, SourceDriver)
        return driver

    def notifier(self, name: str) -> NotifierDriver:
        cls = self.get("notifier", name)
        driver = cls()
        assert isinstance(driver, NotifierDriver)
        return driver


Loader = Callable[[], Iterable[Callable[[Registry], None]]]


@functools.cache
def _entry_point_registrars() -> tuple[Callable[[Registry], None], ...]:
    """The installed drivers' registrars, looked up once a process: scanning every
    distribution's entry points costs ~35 ms, and a server builds engines per request."""
    import importlib.metadata  # ~8 ms: only when the drivers are actually looked up

    found: list[Callable[[Registry], None]] = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.append(ep.load())
    return tuple(found)


def load_registry(loader: Loader | None = None) -> Registry:
    """A registry filled by every ``releasegate.drivers`` entry point (built-ins included).

    ``loader`` replaces entry-point discovery (tests pass their own).
    """
    registry = Registry()
    for register in (loader or _entry_point_registrars)():
        register(registry)
    return registry


AsyncCheck = Callable[[], Awaitable[StepResult]]


if TYPE_CHECKING:
    _CATALOG: DriverCatalog = Registry()  # mypy proves that a Registry is a DriverCatalog
