"""``http-check``: endpoints answer as expected, retried until healthy within a deadline."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import ClassVar

from pydantic import Field, JsonValue

from releasegate.config.types import Duration, StrList
from releasegate.drivers.api import Progress, StepContext, StepResult
from releasegate.drivers.httpcheck_common import Expect, Outcome, http_client, join_url, request
from releasegate.drivers.process import resolve_secret
from releasegate.errors import DriverError


class HttpCheckOptions(Expect):
    """Options of ``http-check``: the paths to call and what every response must satisfy."""

    paths: StrList = Field(
        default_factory=lambda: ["/"],
        description="Paths relative to the environment's url, or full URLs.",
    )
    url: str | None = Field(None, description="Base URL; defaults to the environment's url.")
    method: str = Field("GET", description="HTTP method.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="Request headers; values may be secret references."
    )
    deadline: Duration = Field(
        timedelta(seconds=30),
        description="Keep retrying until every path passes or this much time has passed.",
    )
    interval: Duration = Field(timedelta(seconds=1), description="Pause between attempts.")
    request_timeout: Duration = Field(
        timedelta(seconds=10), description="Give up on a single request after this long."
    )


class HttpCheck:
    """Calls each path until all pass in one round; reports the last failure of each."""

    name: ClassVar[str] = "http-check"
    Options: ClassVar[type[HttpCheckOptions]] = HttpCheckOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: HttpCheckOptions, ctx: StepContext) -> StepResult:
        try:
            urls = [join_url(options.url or ctx.url, p) for p in options.paths]
            headers = {
                k: resolve_secret(ctx, v, what=f"headers.{k}") for k, v in options.headers.items()
            }
        except DriverError as exc:
            return StepResult(ok=False, summary=str(exc))
        outcomes, attempts = await check_until_healthy(
            urls,
            options,
            method=options.method.upper(),
            headers=headers,
            deadline=options.deadline,
            interval=options.interval,
            request_timeout=options.request_timeout,
            progress=ctx.progress,
        )
        failed = [o for o in outcomes if not o.ok]
        evidence: dict[str, JsonValue] = {
            "attempts": attempts,
            "checks": [o.evidence() for o in outcomes],
        }
        if failed:
            summary = ctx.secrets.redact(
                f"{failed[0].describe()} (after {attempts} attempt{'s' * (attempts > 1)})"
            )
            if len(failed) > 1:
                summary += f" and {len(failed) - 1} more failing"
            return StepResult(ok=False, summary=summary, evidence=evidence)
        slowest = max(o.latency_ms for o in outcomes)
        return StepResult(
            ok=True,
            summary=f"{len(outcomes)} endpoint{'s' * (len(outcomes) > 1)} healthy "
            f"(slowest {slowest:.0f} ms)",
            evidence=evidence,
        )


async def check_until_healthy(
    urls: list[str],
    expect: Expect,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    deadline: timedelta,
    interval: timedelta,
    request_timeout: timedelta,
    progress: Progress,
) -> tuple[list[Outcome], int]:
    """Rounds of requests to every url until all pass or the deadline passes."""
    give_up = time.monotonic() + deadline.total_seconds()
    attempts = 0
    async with http_client(timeout=request_timeout.total_seconds()) as client:
        while True:
            attempts += 1
            outcomes = list(
                await asyncio.gather(
                    *(request(client, method, url, expect, headers=headers or {}) for url in urls)
                )
            )
            if all(o.ok for o in outcomes) or time.monotonic() + interval.total_seconds() > give_up:
                return outcomes, attempts
            bad = next(o for o in outcomes if not o.ok)
            progress(f"not healthy yet: {bad.describe()}; retrying")
            await asyncio.sleep(interval.total_seconds())
