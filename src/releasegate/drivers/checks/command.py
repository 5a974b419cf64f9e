"""``command``: run a program; the step passes when it exits with an allowed status."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, JsonValue, ValidationInfo, field_validator

from releasegate.drivers import placeholders
from releasegate.drivers.api import Options, StepContext, StepResult
from releasegate.drivers.placeholders import STEP_PLACEHOLDERS
from releasegate.drivers.process import Command, command_problem, run_command, substitute
from releasegate.errors import DriverError


class CommandOptions(Options):
    """Options of the ``command`` step."""

    shell: bool = Field(False, description="Run `run` (a string) through /bin/sh.")
    run: Command = Field(
        description="The command as a list of arguments, e.g. [npm, run, test:unit]; "
        "a single string only with shell: true. `{version}`, `{previous_version}`, "
        "`{environment}` and `{deployment_id}` are replaced (`{{version}}` is the literal "
        "text `{version}`)."
    )
    env: dict[str, str] = Field(
        default_factory=dict,
        description="Extra environment variables; values may be secret references.",
    )
    cwd: str | None = Field(
        None, description="Working directory, relative to the config file's directory."
    )
    success_codes: list[int] = Field(
        default_factory=lambda: [0], description="Exit statuses that count as success."
    )

    @field_validator("run")
    @classmethod
    def _check_command(cls, run: Command, info: ValidationInfo) -> Command:
        # a field validator (``shell`` is declared first): its error is reported beside
        # every other problem of the step, where a model validator would be skipped
        problem = command_problem(
            run, shell=bool(info.data.get("shell", False)), field="run"
        ) or placeholders.problem(run, STEP_PLACEHOLDERS)
        if problem:
            raise ValueError(problem)
        return run


class CommandStep:
    """Runs a command in its own process group; output is capped and redacted.

    ``safe_to_rerun`` is True: a resumed deployment runs the command again, so commands
    used as deploy steps should be idempotent (use ``migrate`` for migrations).
    """

    name: ClassVar[str] = "command"
    Options: ClassVar[type[CommandOptions]] = CommandOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: CommandOptions, ctx: StepContext) -> StepResult:
        release = ctx.release
        argv = substitute(
            options.run,
            {
                "version": release.version,
                "previous_version": release.previous_version or "",
                "environment": release.environment,
                "deployment_id": str(ctx.deployment_id),
            },
            shell=options.shell,
        )
        try:
            result = await run_command(
                ctx, argv, shell=options.shell, env=options.env, cwd=options.cwd
            )
        except DriverError as exc:
            return StepResult(ok=False, summary=str(exc))
        shown = argv if isinstance(argv, str) else " ".join(argv)
        ok = result.error is None and result.returncode in options.success_codes
        evidence: dict[str, JsonValue] = {
            "command": ctx.secrets.redact(shown),
            "exit_code": result.returncode,
            "duration_s": round(result.duration_s, 3),
        }
        if result.dropped:
            evidence["output_dropped_bytes"] = result.dropped
        left = ""
        if result.left_running:
            evidence["left_running"] = list[JsonValue](result.left_running)
            left = f"; left running: {', '.join(result.left_running)}"
        return StepResult(
            ok=ok,
            summary=f"{ctx.secrets.redact(shown)}: {result.describe()}{left}",
            output=result.output,
            evidence=evidence,
        )
