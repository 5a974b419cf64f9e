"""``confirm``: wait for a person to sign a checklist item (``releasegate confirm``)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import ClassVar

from pydantic import Field

from releasegate.config.types import Duration, StrList, format_duration
from releasegate.drivers.api import Options, StepContext, StepResult


class ConfirmOptions(Options):
    """Options of ``confirm``."""

    item: str = Field(description="The checklist item to be signed, e.g. prod.team-assembled.")
    text: str | None = Field(None, description="What the person confirms, shown while waiting.")
    by: StrList = Field(default_factory=list, description="Who is expected to sign (roles or people).")
    timeout: Duration = Field(timedelta(minutes=30), description="Fail if nobody signs within this.")
    poll: Duration = Field(timedelta(seconds=1), description="How often to look for the signature.")


class Confirm:
    """Polls the store; safe to re-run (an item already signed passes at once)."""

    name: ClassVar[str] = "confirm"
    Options: ClassVar[type[ConfirmOptions]] = ConfirmOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: ConfirmOptions, ctx: StepContext) -> StepResult:
        who = " or ".join(options.by) if options.by else "someone"
        give_up = time.monotonic() + options.timeout.total_seconds()
        announced = False
        while True:
            signed = ctx.facts.is_confirmed(options.item)
            if signed is not None:
                return StepResult(
                    ok=True,
                    summary=f"{options.item} signed by {signed.user}",
                    evidence={
                        "item": options.item, "user": signed.user, "at": signed.at, "note": signed.note,
                    },
                )
            if time.monotonic() >= give_up:
                return StepResult(
                    ok=False,
                    summary=f"{options.item} was not signed within "
                    f"{format_duration(options.timeout)}{f' (waiting for {who})' if options.by else ''}",
                    evidence={"item": options.item, "by": list(options.by)},
                )
            if not announced:
                what = f" ({options.text})" if options.text else ""
                ctx.progress(
                    f"waiting for {who} to sign {options.item}{what}: "
                    f"releasegate confirm {ctx.deployment_id} {options.item}"
                )
                announced = True
            await asyncio.sleep(min(options.poll.total_seconds(), max(give_up - time.monotonic(), 0)))
