"""The ``command`` balancer: any other load balancer, through the team's own commands.

``drain`` and ``ready`` get ``{server}``; ``servers`` prints one line per server,
``NAME STATE [CONNECTIONS]`` with STATE one of ``up``, ``down``, ``drain``, ``maint``.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from releasegate.drivers.api import Options, StepContext
from releasegate.drivers.balancers.api import ServerState, State
from releasegate.drivers.process import command_problem, run_command, substitute
from releasegate.errors import DriverError

_KNOWN: tuple[State, ...] = ("up", "down", "drain", "maint")


class CommandBalancerOptions(Options):
    """Options of ``balancer: {uses: command, with: {...}}`` (argv lists, no shell)."""

    drain: list[str] = Field(description="Stops new requests to `{server}`.")
    ready: list[str] = Field(description="Puts `{server}` back in service.")
    servers: list[str] | None = Field(
        None, description="Prints `NAME STATE [CONNECTIONS]` per server (for lb-healthy and drain waits)."
    )
    maintenance_on: list[str] | None = Field(None, description="Shows the maintenance page.")
    maintenance_off: list[str] | None = Field(None, description="Routes to the app again.")

    @model_validator(mode="after")
    def _commands(self) -> CommandBalancerOptions:
        for field in ("drain", "ready", "servers", "maintenance_on", "maintenance_off"):
            problem = command_problem(getattr(self, field), shell=False, field=field)
            if problem:
                raise ValueError(problem)
        return self


class CommandBalancer:
    """Drains and readies servers with commands."""

    def __init__(self, options: CommandBalancerOptions, ctx: StepContext) -> None:
        self.options = options
        self.ctx = ctx

    async def _run(self, what: str, argv: list[str], server: str = "") -> str:
        command = substitute(argv, {"server": server})
        assert isinstance(command, list)
        result = await run_command(self.ctx, command)
        if not result.ok:
            raise DriverError(f"load balancer {what} failed: {result.describe()}")
        return result.output

    async def servers(self) -> list[ServerState]:
        if self.options.servers is None:
            raise DriverError("load balancer: give `servers` to read the servers' states")
        found = []
        for line in (await self._run("servers", self.options.servers)).splitlines():
            parts = line.split()
            if len(parts) < 2:
                continue
            state = parts[1].lower()
            if state not in _KNOWN:
                raise DriverError(f"load balancer servers: {line!r}: state must be one of {', '.join(_KNOWN)}")
            conns = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None
            found.append(ServerState(parts[0], state, parts[1], conns))
        return found

    async def drain(self, server: str) -> None:
        await self._run(f"drain of {server}", self.options.drain, server)

    async def ready(self, server: str) -> None:
        await self._run(f"ready of {server}", self.options.ready, server)

    async def maintenance(self, on: bool) -> None:
        argv = self.options.maintenance_on if on else self.options.maintenance_off
        if argv is None:
            raise DriverError("load balancer: give maintenance_on and maintenance_off")
        await self._run("maintenance " + ("on" if on else "off"), argv)
