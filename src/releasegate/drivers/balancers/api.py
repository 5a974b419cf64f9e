"""What a load balancer driver does for a rolling deploy, and how one is built from its spec."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import JsonValue

from releasegate.drivers.api import Options, StepContext
from releasegate.drivers.balancers import BalancerSpec

State = Literal["up", "down", "drain", "maint"]


@dataclass(frozen=True)
class ServerState:
    """One server of the backend as the balancer sees it."""

    name: str
    state: State
    """``up``: in service and passing its checks; ``drain``: no new requests; ``maint``:
    out of service; ``down``: failing its checks."""
    status: str
    """The balancer's own wording (HAProxy's ``UP 1/3``, ``DRAIN``, ``MAINT``, ...)."""
    connections: int | None = None
    """Requests or sessions it is serving now, if the balancer tells."""

    def to_json(self) -> dict[str, JsonValue]:
        return {"state": self.state, "status": self.status, "connections": self.connections}


class Balancer(Protocol):
    """A backend of servers that can be drained and made ready one by one."""

    async def servers(self) -> list[ServerState]:
        """Every server of the backend, in the balancer's order."""
        ...

    async def drain(self, server: str) -> None:
        """Send ``server`` no new requests; those in flight finish."""
        ...

    async def ready(self, server: str) -> None:
        """Put ``server`` back in service."""
        ...

    async def maintenance(self, on: bool) -> None:
        """Switch every request to the maintenance page (or back)."""
        ...


def options_model(uses: str) -> type[Options]:
    """The options model of balancer ``uses``."""
    if uses == "haproxy":
        from releasegate.drivers.balancers.haproxy import HaproxyOptions

        return HaproxyOptions
    from releasegate.drivers.balancers.command import CommandBalancerOptions

    return CommandBalancerOptions


def open_balancer(spec: BalancerSpec, ctx: StepContext) -> Balancer:
    """The driver for ``spec``, its options validated."""
    options = options_model(spec.uses).model_validate(spec.with_)
    if spec.uses == "haproxy":
        from releasegate.drivers.balancers.haproxy import Haproxy, HaproxyOptions

        assert isinstance(options, HaproxyOptions)
        return Haproxy(options, ctx)
    from releasegate.drivers.balancers.command import CommandBalancer, CommandBalancerOptions

    assert isinstance(options, CommandBalancerOptions)
    return CommandBalancer(options, ctx)
