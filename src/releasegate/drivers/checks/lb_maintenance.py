"""``lb-maintenance``: the maintenance page at the load balancer (a backend switch).

With HAProxy the frontend picks its backend from a map; this step sets the map's key to the
maintenance backend (``enable``) or back to the app's (``disable``) through the runtime
API, so no request reaches the app while it is switched. ``undo`` does the opposite.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from releasegate.drivers.api import Options, StepContext, StepResult
from releasegate.drivers.balancers import BalancerSpec
from releasegate.drivers.balancers.api import open_balancer
from releasegate.errors import DriverError


class LbMaintenanceOptions(Options):
    """Options of ``lb-maintenance``."""

    balancer: BalancerSpec = Field(description="The balancer: `{uses: haproxy|command, with: {...}}`.")
    action: Literal["enable", "disable"] = Field(
        "enable", description="What the step does; undo does the opposite."
    )


async def _switch(options: LbMaintenanceOptions, ctx: StepContext, *, on: bool) -> StepResult:
    state = "on" if on else "off"
    try:
        await open_balancer(options.balancer, ctx).maintenance(on)
    except DriverError as exc:
        return StepResult(ok=False, summary=f"could not turn the maintenance page {state}: {exc}")
    return StepResult(ok=True, summary=f"maintenance page {state} at the load balancer",
                      evidence={"maintenance": state})


class LbMaintenance:
    """An idempotent switch: safe to re-run; ``undo`` flips it back."""

    name: ClassVar[str] = "lb-maintenance"
    Options: ClassVar[type[LbMaintenanceOptions]] = LbMaintenanceOptions
    safe_to_rerun: ClassVar[bool] = True

    @staticmethod
    def describe_undo(raw: dict[str, object]) -> str:
        """What rollback does about this step, for the plan."""
        on = raw.get("action") == "disable"
        return "switch the load balancer's maintenance page " + ("on" if on else "off")

    async def run(self, options: LbMaintenanceOptions, ctx: StepContext) -> StepResult:
        return await _switch(options, ctx, on=options.action == "enable")

    async def undo(self, options: LbMaintenanceOptions, ctx: StepContext) -> StepResult:
        return await _switch(options, ctx, on=options.action != "enable")
