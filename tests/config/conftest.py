"""Fixtures for the config tests: a registry of small fake drivers, a config writer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest

from releasegate.drivers.api import Options, Registry, StepContext, StepResult


class CommandOptions(Options):
    run: list[str]
    shell: bool = False


class FakeCommand:
    """Stands in for the real `command` driver, which another part of the tree provides."""

    name: ClassVar[str] = "command"
    Options: ClassVar[type[Options]] = CommandOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: Options, ctx: StepContext) -> StepResult:
        return StepResult(ok=True, summary="ran")


class HttpOptions(Options):
    paths: list[str]
    expect_status: int = 200


class FakeHttpCheck(FakeCommand):
    name: ClassVar[str] = "http-check"
    Options: ClassVar[type[Options]] = HttpOptions


class LocalOptions(Options):
    app: str


class FakeLocal:
    name: ClassVar[str] = "local"
    Options: ClassVar[type[Options]] = LocalOptions

    async def deploy(self, options: Options, ctx: StepContext) -> StepResult:
        return StepResult(ok=True, summary="deployed")

    async def rollback(self, options: Options, ctx: StepContext, to_version: str) -> StepResult:
        return StepResult(ok=True, summary="rolled back")

    async def current(self, options: Options, ctx: StepContext) -> str | None:
        return None


@pytest.fixture
def registry() -> Registry:
    """Fake `command` and `http-check` steps and a fake `local` target."""
    found = Registry()
    found.register("step", FakeCommand)
    found.register("step", FakeHttpCheck)
    found.register("target", FakeLocal)
    return found


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str], Path]:
    """Writes text to releasegate.yaml in a fresh directory; returns its path."""

    def _write(text: str) -> Path:
        path = tmp_path / "releasegate.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return _write
