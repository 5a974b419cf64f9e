"""``lb-healthy``: the checklist's "Load balancer healthy", read from the balancer itself.

Passes when at least ``min_up`` servers of the backend (default: all) are in service and
passing the balancer's own checks; the evidence is every server's state as the balancer
reports it (HAProxy's ``show stat`` status and current sessions).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, JsonValue

from releasegate.drivers.api import Options, StepContext, StepResult
from releasegate.drivers.balancers import BalancerSpec
from releasegate.drivers.balancers.api import open_balancer
from releasegate.errors import DriverError


class LbHealthyOptions(Options):
    """Options of ``lb-healthy``."""

    balancer: BalancerSpec = Field(description="The balancer: `{uses: haproxy|command, with: {...}}`.")
    min_up: int | None = Field(
        None, ge=1, description="Servers that must be up (default: every server of the backend)."
    )


class LbHealthy:
    """Reads the backend's server states; safe to re-run (it changes nothing)."""

    name: ClassVar[str] = "lb-healthy"
    Options: ClassVar[type[LbHealthyOptions]] = LbHealthyOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: LbHealthyOptions, ctx: StepContext) -> StepResult:
        try:
            servers = await open_balancer(options.balancer, ctx).servers()
        except DriverError as exc:
            return StepResult(ok=False, summary=str(exc))
        evidence: dict[str, JsonValue] = {"servers": {s.name: s.to_json() for s in servers}}
        if not servers:
            return StepResult(ok=False, summary="the load balancer's backend has no servers",
                              evidence=evidence)
        up = [s for s in servers if s.state == "up"]
        wanted = options.min_up if options.min_up is not None else len(servers)
        evidence["up"] = len(up)
        evidence["required"] = wanted
        if len(up) >= wanted:
            return StepResult(ok=True, summary=f"{len(up)} of {len(servers)} servers up",
                              evidence=evidence)
        others = ", ".join(f"{s.name} {s.status}" for s in servers if s.state != "up")
        return StepResult(
            ok=False,
            summary=f"{len(up)} of {len(servers)} servers up, {wanted} required ({others})",
            evidence=evidence,
        )
