"""The ``command`` target: deploy, roll back and ask the current version with commands.

``{version}``, ``{previous_version}``, ``{environment}`` and ``{deployment_id}`` in any
argument are replaced: ``{version}`` is the release's version for ``deploy`` and the
version to return to for ``rollback`` (``{previous_version}`` then the one rolled back
from); ``{{version}}`` is the literal text. In a ``shell: true`` command string each value
is shell-quoted (one word, never code). An unknown placeholder is a config error.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator, model_validator

from releasegate.drivers import placeholders
from releasegate.drivers.api import Options, StepContext, StepResult
from releasegate.drivers.placeholders import STEP_PLACEHOLDERS
from releasegate.drivers.process import Command, command_problem, run_command, substitute
from releasegate.errors import DriverError


class CommandTargetOptions(Options):
    """Options of the ``command`` target."""

    deploy: Command = Field(description="Deploys {version}, e.g. [./deploy.sh, '{version}'].")
    rollback: Command | None = Field(
        None, description="Returns to {version}; default: the deploy command with that version."
    )
    current: Command | None = Field(
        None, description="Prints the version serving now (its last output line)."
    )
    shell: bool = Field(False, description="The commands are strings run through /bin/sh.")
    env: dict[str, str] = Field(
        default_factory=dict, description="Extra environment variables (secret references allowed)."
    )
    cwd: str | None = Field(None, description="Working directory, relative to the config file.")

    @field_validator("deploy", "rollback", "current")
    @classmethod
    def _placeholders(cls, value: Command | None) -> Command | None:
        problem = None if value is None else placeholders.problem(value, STEP_PLACEHOLDERS)
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _commands(self) -> CommandTargetOptions:
        for field in ("deploy", "rollback", "current"):
            problem = command_problem(getattr(self, field), shell=self.shell, field=field)
            if problem:
                raise ValueError(problem)
        return self


class CommandTarget:
    """Deploys with a command; what the command does is up to the team."""

    name: ClassVar[str] = "command"
    Options: ClassVar[type[CommandTargetOptions]] = CommandTargetOptions

    async def _run(
        self,
        options: CommandTargetOptions,
        ctx: StepContext,
        command: Command,
        version: str,
        *,
        done: str,
        failed: str,
        previous: str | None,
    ) -> StepResult:
        argv = substitute(
            command,
            {
                "version": version,
                "previous_version": previous or "",
                "environment": ctx.release.environment,
                "deployment_id": str(ctx.deployment_id),
            },
            shell=options.shell,
        )
        try:
            result = await run_command(ctx, argv, shell=options.shell, env=options.env, cwd=options.cwd)
        except DriverError as exc:
            return StepResult(ok=False, summary=str(exc))
        verdict = done if result.ok else f"{failed} failed: {result.describe()}"
        return StepResult(
            ok=result.ok,
            summary=verdict,
            output=result.output,
            evidence={"version": version, "exit_code": result.returncode},
        )

    async def deploy(self, options: CommandTargetOptions, ctx: StepContext) -> StepResult:
        version = ctx.release.version
        return await self._run(
            options, ctx, options.deploy, version,
            done=f"deployed {version}", failed=f"deploy of {version}",
            previous=ctx.release.previous_version,
        )

    async def rollback(
        self, options: CommandTargetOptions, ctx: StepContext, to_version: str
    ) -> StepResult:
        command = options.rollback or options.deploy
        return await self._run(
            options, ctx, command, to_version,
            done=f"rolled back to {to_version}", failed=f"rollback to {to_version}",
            previous=ctx.release.version,
        )

    async def current(self, options: CommandTargetOptions, ctx: StepContext) -> str | None:
        if options.current is None:
            return None
        argv = substitute(
            options.current,
            {"environment": ctx.release.environment, "deployment_id": str(ctx.deployment_id),
             "version": ctx.release.version, "previous_version": ctx.release.previous_version or ""},
            shell=options.shell,
        )
        try:
            result = await run_command(
                ctx, argv, shell=options.shell, env=options.env, cwd=options.cwd
            )
        except DriverError:
            return None
        return (result.last_line() or None) if result.ok else None
