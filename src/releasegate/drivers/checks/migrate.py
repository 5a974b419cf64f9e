"""``migrate``: run a schema migration, and know how to roll it back.

``mode`` says what a rollback does: ``reversible`` runs ``down``; ``expand`` keeps the
schema (the previous version must run on it); ``irreversible`` needs the backup taken in
this deployment restored — which the engine does (``undo`` reports that it is needed).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, JsonValue, model_validator

from releasegate.drivers.api import Options, StepContext, StepResult
from releasegate.drivers.process import Command, command_problem, run_command
from releasegate.errors import DriverError

RESTORE_NEEDED = "irreversible migration: restore the backup taken before it"


class MigrateOptions(Options):
    """Options of ``migrate``."""

    run: Command = Field(description="The migration command, e.g. [alembic, upgrade, head].")
    status: Command | None = Field(
        None,
        description="A command that exits 0 when every migration is applied "
        "(e.g. [npx, prisma, migrate, status]); used to check an interrupted run.",
    )
    down: Command | None = Field(None, description="The command that reverts it (mode reversible).")
    mode: Literal["reversible", "expand", "irreversible"] | None = Field(
        None,
        description="What a rollback does; default reversible when `down` is given, "
        "else irreversible (a restore).",
    )
    shell: bool = Field(False, description="The commands are strings run through /bin/sh.")
    env: dict[str, str] = Field(
        default_factory=dict, description="Extra environment variables (secret references allowed)."
    )
    cwd: str | None = Field(None, description="Working directory, relative to the config file.")

    @model_validator(mode="after")
    def _consistent(self) -> MigrateOptions:
        for field in ("run", "status", "down"):
            problem = command_problem(getattr(self, field), shell=self.shell, field=field)
            if problem:
                raise ValueError(problem)
        if self.mode == "reversible" and self.down is None:
            raise ValueError("mode reversible needs a down command")
        if self.mode in {"expand", "irreversible"} and self.down is not None:
            raise ValueError(f"mode {self.mode} cannot have a down command (use mode reversible)")
        return self

    @property
    def rollback_mode(self) -> str:
        return self.mode or ("reversible" if self.down is not None else "irreversible")


async def _run(options: MigrateOptions, ctx: StepContext, command: Command, what: str) -> StepResult:
    try:
        result = await run_command(ctx, command, shell=options.shell, env=options.env, cwd=options.cwd)
    except DriverError as exc:
        return StepResult(ok=False, summary=str(exc))
    evidence: dict[str, JsonValue] = {
        "mode": options.rollback_mode,
        "exit_code": result.returncode,
        "duration_s": round(result.duration_s, 3),
    }
    verdict = "succeeded" if result.ok else f"failed: {result.describe()}"
    detail = "" if result.ok or not result.last_line() else f" ({result.last_line()})"
    return StepResult(ok=result.ok, summary=f"{what} {verdict}{detail}", output=result.output, evidence=evidence)


class Migrate:
    """Not safe to re-run blindly: on resume the engine calls :meth:`verify`."""

    name: ClassVar[str] = "migrate"
    Options: ClassVar[type[MigrateOptions]] = MigrateOptions
    safe_to_rerun: ClassVar[bool] = False

    @staticmethod
    def describe_undo(raw: dict[str, object]) -> str:
        """What rollback does about this migration, for the plan (options not yet validated)."""
        mode = raw.get("mode") or ("reversible" if raw.get("down") else "irreversible")
        return {
            "reversible": "run its down command",
            "expand": "kept (expand-only): the old version runs on the new schema",
        }.get(str(mode), "irreversible: restore the backup this deployment took")

    async def run(self, options: MigrateOptions, ctx: StepContext) -> StepResult:
        return await _run(options, ctx, options.run, "migration")

    async def verify(self, options: MigrateOptions, ctx: StepContext) -> StepResult:
        """Run the status command: exit 0 means the migration is applied."""
        if options.status is None:
            return StepResult(
                ok=False,
                summary="cannot tell whether the interrupted migration was applied (no status command)",
            )
        return await _run(options, ctx, options.status, "migration status check")

    async def undo(self, options: MigrateOptions, ctx: StepContext) -> StepResult:
        mode = options.rollback_mode
        if mode == "reversible":
            assert options.down is not None
            return await _run(options, ctx, options.down, "migration down")
        if mode == "expand":
            return StepResult(
                ok=True,
                summary="kept (expand-only): the previous version runs on the new schema",
                evidence={"mode": mode, "action": "kept"},
            )
        return StepResult(
            ok=False,
            summary=RESTORE_NEEDED,
            evidence={"mode": mode, "action": "restore-needed"},
        )
