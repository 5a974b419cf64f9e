"""Test drivers for the engine: plugin-style drivers that leave a trace in files.

They exist so engine tests can steer outcomes (fail the first N attempts, hang, need a
restore) exactly; the real drivers are exercised end to end in test_cli_*.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import ClassVar, Literal

from releasegate.drivers.api import Options, Registry, StepContext, StepResult


def _log(path: str, line: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


class FakeOptions(Options):
    log: str
    fail_times: int = 0
    """Fail this many attempts first (-1: always)."""
    sleep: float = 0.0


class FakeStep:
    name: ClassVar[str] = "fake"
    Options: ClassVar[type[Options]] = FakeOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: Options, ctx: StepContext) -> StepResult:
        assert isinstance(options, FakeOptions)
        key = f"{ctx.deployment_id}"
        tries = Path(options.log + ".tries")
        counts = tries.read_text().split() if tries.exists() else []
        attempt = counts.count(key) + 1
        with tries.open("a") as fh:
            fh.write(key + "\n")
        _log(options.log, f"start {ctx.release.version}")
        ctx.progress(f"working on {ctx.release.version}")
        if options.sleep:
            await asyncio.sleep(options.sleep)
        if options.fail_times == -1 or attempt <= options.fail_times:
            _log(options.log, "fail")
            return StepResult(False, f"failed on attempt {attempt}", output="boom")
        _log(options.log, "ok")
        return StepResult(True, f"ok on attempt {attempt}", evidence={"attempt": attempt})


class UnsafeStep(FakeStep):
    name: ClassVar[str] = "unsafe"
    safe_to_rerun: ClassVar[bool] = False

    async def verify(self, options: Options, ctx: StepContext) -> StepResult:
        assert isinstance(options, FakeOptions)
        done = Path(options.log).exists() and "ok" in Path(options.log).read_text().split()
        return StepResult(done, "effect present" if done else "effect absent")


class MigrateOptions(Options):
    log: str
    mode: Literal["reversible", "expand", "irreversible"] = "reversible"
    fail: bool = False


class FakeMigrate:
    name: ClassVar[str] = "fake-migrate"
    Options: ClassVar[type[Options]] = MigrateOptions
    safe_to_rerun: ClassVar[bool] = False

    @staticmethod
    def describe_undo(options: dict[str, object]) -> str:
        return {"reversible": "run down", "expand": "kept (expand-only)"}.get(
            str(options.get("mode", "reversible")), "restore the backup"
        )

    async def run(self, options: Options, ctx: StepContext) -> StepResult:
        assert isinstance(options, MigrateOptions)
        _log(options.log, "up")
        return StepResult(not options.fail, "migrated" if not options.fail else "migration failed")

    async def undo(self, options: Options, ctx: StepContext) -> StepResult:
        assert isinstance(options, MigrateOptions)
        if options.mode == "reversible":
            _log(options.log, "down")
            return StepResult(True, "reverted")
        if options.mode == "expand":
            _log(options.log, "kept")
            return StepResult(True, "kept (expand-only)")
        return StepResult(False, "irreversible: restore needed", evidence={"action": "restore-needed"})


class BackupOptions(Options):
    log: str
    database: str = "db"


class FakeBackup:
    name: ClassVar[str] = "backup"
    Options: ClassVar[type[Options]] = BackupOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: Options, ctx: StepContext) -> StepResult:
        assert isinstance(options, BackupOptions)
        bid = ctx.facts.record_backup(
            location=options.log + ".bak", checksum="abc", size=3, duration_s=0.1, kind="fake", source=options.database
        )
        _log(options.log, f"backup {bid}")
        return StepResult(True, f"backup {bid}")


class RestoreOptions(Options):
    database: str | None = None
    backup: str | None = None


class FakeRestore:
    name: ClassVar[str] = "restore"
    Options: ClassVar[type[Options]] = RestoreOptions
    safe_to_rerun: ClassVar[bool] = True
    log: ClassVar[list[str]] = []

    async def run(self, options: Options, ctx: StepContext) -> StepResult:
        assert isinstance(options, RestoreOptions)
        FakeRestore.log.append(f"restore {options.backup} into {options.database}")
        return StepResult(True, f"restored backup {options.backup}")


class TargetOptions(Options):
    file: str
    fail_versions: tuple[str, ...] = ()


class FakeTarget:
    name: ClassVar[str] = "fake-target"
    Options: ClassVar[type[Options]] = TargetOptions

    async def deploy(self, options: Options, ctx: StepContext) -> StepResult:
        assert isinstance(options, TargetOptions)
        if ctx.release.version in options.fail_versions:
            return StepResult(False, f"{ctx.release.version} would not start")
        Path(options.file).write_text(ctx.release.version)
        return StepResult(True, f"{ctx.release.version} live")

    async def rollback(self, options: Options, ctx: StepContext, to_version: str) -> StepResult:
        assert isinstance(options, TargetOptions)
        Path(options.file).write_text(to_version)
        return StepResult(True, f"{to_version} live again")

    async def current(self, options: Options, ctx: StepContext) -> str | None:
        assert isinstance(options, TargetOptions)
        path = Path(options.file)
        return path.read_text() if path.exists() else None


def fake_registry() -> Registry:
    registry = Registry()
    for cls in (FakeStep, UnsafeStep, FakeMigrate, FakeBackup, FakeRestore):
        registry.register("step", cls)  # type: ignore[arg-type]
    registry.register("target", FakeTarget)  # type: ignore[arg-type]
    return registry


class PlainSecrets:
    def resolve(self, value: str) -> str:
        return value

    def redact(self, text: str) -> str:
        return text.replace("hunter2", "***")
