"""``maintenance``: switch maintenance mode on (or off) through commands or an HTTP call."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar, Literal

from pydantic import Field, JsonValue, model_validator

from releasegate.config.types import Duration
from releasegate.drivers.api import Options, StepContext, StepResult
from releasegate.drivers.httpcheck_common import Expect, http_client, join_url, request
from releasegate.drivers.process import Command, command_problem, resolve_secret, run_command
from releasegate.errors import DriverError


class MaintenanceOptions(Options):
    """Options of ``maintenance``: either the two commands or an HTTP endpoint."""

    action: Literal["enable", "disable"] = Field(
        "enable", description="What the step does; undo does the opposite."
    )
    enable: Command | None = Field(None, description="Command that turns maintenance mode on.")
    disable: Command | None = Field(None, description="Command that turns it off.")
    shell: bool = Field(False, description="The commands are strings run through /bin/sh.")
    url: str | None = Field(
        None,
        description="HTTP endpoint instead of commands (relative to the environment's url); "
        'it receives {"enabled": true|false} as JSON.',
    )
    method: str = Field("POST", description="HTTP method for `url`.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="Headers for `url`; values may be secret references."
    )
    expect_status: list[int] = Field(
        default_factory=lambda: [200, 201, 202, 204], description="Statuses that mean it worked."
    )
    request_timeout: Duration = Field(timedelta(seconds=10), description="Per-request timeout.")

    @model_validator(mode="after")
    def _one_way(self) -> MaintenanceOptions:
        commands = self.enable is not None or self.disable is not None
        if commands == (self.url is not None):
            raise ValueError("give either enable/disable commands or a url")
        if commands and (self.enable is None or self.disable is None):
            raise ValueError("give both enable and disable commands")
        for field in ("enable", "disable"):
            problem = command_problem(getattr(self, field), shell=self.shell, field=field)
            if problem:
                raise ValueError(problem)
        return self


async def _switch(options: MaintenanceOptions, ctx: StepContext, *, on: bool) -> StepResult:
    state = "on" if on else "off"
    try:
        if options.url is None:
            command = options.enable if on else options.disable
            assert command is not None
            result = await run_command(ctx, command, shell=options.shell)
            if not result.ok:
                return StepResult(
                    ok=False,
                    summary=f"could not turn maintenance mode {state}: {result.describe()}",
                    output=result.output,
                )
            return StepResult(ok=True, summary=f"maintenance mode {state}", output=result.output,
                              evidence={"maintenance": state})
        url = join_url(ctx.url, options.url)
        headers = {k: resolve_secret(ctx, v, what=f"headers.{k}") for k, v in options.headers.items()}
    except DriverError as exc:
        return StepResult(ok=False, summary=str(exc))
    expect = Expect.model_validate({"status": options.expect_status})
    async with http_client(timeout=options.request_timeout.total_seconds()) as client:
        outcome = await request(
            client, options.method.upper(), url, expect, headers=headers, json={"enabled": on}
        )
    evidence: dict[str, JsonValue] = {"maintenance": state, **outcome.evidence()}
    if not outcome.ok:
        return StepResult(
            ok=False,
            summary=f"could not turn maintenance mode {state}: {outcome.describe()}",
            evidence=evidence,
        )
    return StepResult(ok=True, summary=f"maintenance mode {state}", evidence=evidence)


class Maintenance:
    """An idempotent switch: safe to re-run; ``undo`` flips it back."""

    name: ClassVar[str] = "maintenance"

    @staticmethod
    def describe_undo(raw: dict[str, object]) -> str:
        """What rollback does about this step, for the plan."""
        return "switch maintenance mode " + ("on" if raw.get("action") == "disable" else "off")
    Options: ClassVar[type[MaintenanceOptions]] = MaintenanceOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: MaintenanceOptions, ctx: StepContext) -> StepResult:
        return await _switch(options, ctx, on=options.action == "enable")

    async def undo(self, options: MaintenanceOptions, ctx: StepContext) -> StepResult:
        return await _switch(options, ctx, on=options.action != "enable")
