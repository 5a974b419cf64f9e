"""``version-check``: the deployed service reports the version being deployed."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from pydantic import Field

from releasegate.config.types import Duration
from releasegate.drivers.api import Options, StepContext, StepResult
from releasegate.drivers.checks.http_check import check_until_healthy
from releasegate.drivers.httpcheck_common import Expect, join_url
from releasegate.errors import DriverError


class VersionCheckOptions(Options):
    """Options of ``version-check``."""

    path: str = Field("/monitoring/version", description="Path (or full URL) of the version endpoint.")
    url: str | None = Field(None, description="Base URL; defaults to the environment's url.")
    field: str = Field("version", description="Dotted JSON path of the version in the response.")
    expected: str | None = Field(None, description="The version to expect; defaults to the release's.")
    deadline: Duration = Field(
        timedelta(seconds=60),
        description="Keep asking until the version matches or this much time has passed "
        "(a swap takes a moment).",
    )
    interval: Duration = Field(timedelta(seconds=1), description="Pause between attempts.")
    request_timeout: Duration = Field(timedelta(seconds=10), description="Per-request timeout.")


class VersionCheck:
    """GETs the version endpoint until its version equals the release's."""

    name: ClassVar[str] = "version-check"
    Options: ClassVar[type[VersionCheckOptions]] = VersionCheckOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: VersionCheckOptions, ctx: StepContext) -> StepResult:
        expected = options.expected or ctx.release.version
        try:
            url = join_url(options.url or ctx.url, options.path)
        except DriverError as exc:
            return StepResult(ok=False, summary=str(exc))
        expect = Expect.model_validate({"json": {options.field: expected}})
        outcomes, attempts = await check_until_healthy(
            [url],
            expect,
            deadline=options.deadline,
            interval=options.interval,
            request_timeout=options.request_timeout,
            progress=ctx.progress,
        )
        outcome = outcomes[0]
        evidence = {"expected": expected, "attempts": attempts, **outcome.evidence()}
        if outcome.ok:
            return StepResult(ok=True, summary=f"{url} reports version {expected}", evidence=evidence)
        return StepResult(
            ok=False,
            summary=f"{outcome.describe()} (after {attempts} attempt{'s' * (attempts > 1)})",
            evidence=evidence,
        )
