"""``command``: run a program; the step passes when it exits with an allowed status."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, JsonValue, model_validator

from releasegate.drivers.api import Options, StepContext, StepResult
from releasegate.drivers.process import Command, command_problem, run_command
from releasegate.errors import DriverError


class CommandOptions(Options):
    """Options of the ``command`` step."""

    run: Command = Field(
        description="The command as a list of arguments, e.g. [npm, run, test:unit]; "
        "a single string only with shell: true."
    )
    shell: bool = Field(False, description="Run `run` (a string) through /bin/sh.")
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

    @model_validator(mode="after")
    def _check_command(self) -> CommandOptions:
        problem = command_problem(self.run, shell=self.shell, field="run")
        if problem:
            raise ValueError(problem)
        return self


class CommandStep:
    """Runs a command in its own process group; output is capped and redacted.

    ``safe_to_rerun`` is True: a resumed deployment runs the command again, so commands
    used as deploy steps should be idempotent (use ``migrate`` for migrations).
    """

    name: ClassVar[str] = "command"
    Options: ClassVar[type[CommandOptions]] = CommandOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: CommandOptions, ctx: StepContext) -> StepResult:
        try:
            result = await run_command(
                ctx, options.run, shell=options.shell, env=options.env, cwd=options.cwd
            )
        except DriverError as exc:
            return StepResult(ok=False, summary=str(exc))
        shown = options.run if isinstance(options.run, str) else " ".join(options.run)
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
