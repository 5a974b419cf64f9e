"""HAProxy through its runtime API (the ``stats socket ... level admin`` unix socket).

Each call opens the socket, sends one command and reads the answer to the end (the
non-interactive mode): ``show stat`` for server states and current sessions (``scur``),
``set server B/S state drain|ready`` around a host's swap, and ``set map`` to switch the
frontend between the app's backend and a maintenance backend. HAProxy answers an error as
text (``No such server.``), which is raised as a DriverError naming the socket.
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta
from pathlib import Path

from pydantic import Field

from releasegate.config.types import Duration
from releasegate.drivers.api import Options, StepContext
from releasegate.drivers.balancers.api import ServerState, State
from releasegate.errors import DriverError

# HAProxy's answers that mean "done" for the commands we send
_SILENT_OK = ("", "Done.")
_STATES: dict[str, State] = {
    "UP": "up", "NOLB": "drain", "DRAIN": "drain", "MAINT": "maint", "DOWN": "down",
}


class HaproxyOptions(Options):
    """Options of ``balancer: {uses: haproxy, with: {...}}``."""

    socket: str = Field(description="The runtime API's unix socket (`stats socket` in haproxy.cfg).")
    backend: str = Field(description="The backend whose servers are the hosts.")
    maintenance_map: str | None = Field(
        None,
        description="A map file the frontend picks its backend from, as named in haproxy.cfg "
        "(`use_backend %[str(active),map(FILE,app)]`); needed for the maintenance page.",
    )
    maintenance_key: str = Field("active", description="The key looked up in that map.")
    maintenance_backend: str = Field(
        "maintenance", description="The backend that answers the maintenance page."
    )
    timeout: Duration = Field(timedelta(seconds=5), description="Bound on one API call.")


class Haproxy:
    """One backend of one HAProxy, driven through the runtime API."""

    def __init__(self, options: HaproxyOptions, ctx: StepContext) -> None:
        self.options = options
        self.socket = Path(options.socket) if Path(options.socket).is_absolute() else (
            ctx.workdir / options.socket
        )

    async def command(self, line: str) -> str:
        """Send one runtime API command and return HAProxy's answer."""
        timeout = self.options.timeout.total_seconds()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_unix_connection(str(self.socket)), timeout
            )
        except (OSError, TimeoutError) as exc:
            raise DriverError(f"haproxy: no runtime API answers at {self.socket} ({exc})") from exc
        try:
            writer.write(line.encode() + b"\n")
            await writer.drain()
            data = await asyncio.wait_for(reader.read(), timeout)
        except (OSError, TimeoutError) as exc:
            raise DriverError(f"haproxy: {line.split()[0]} on {self.socket} failed ({exc!r})") from exc
        finally:
            writer.close()
        return data.decode(errors="replace")

    async def _admin(self, line: str) -> None:
        answer = (await self.command(line)).strip()
        if answer not in _SILENT_OK:
            raise DriverError(f"haproxy at {self.socket}: {line!r} answered {answer!r}")

    async def servers(self) -> list[ServerState]:
        text = await self.command("show stat")
        rows = list(csv.DictReader(io.StringIO(text.lstrip("# "))))
        found = [
            _state(row)
            for row in rows
            if row.get("pxname") == self.options.backend
            and row.get("svname") not in ("FRONTEND", "BACKEND")
        ]
        if not found and not any(row.get("pxname") == self.options.backend for row in rows):
            raise DriverError(f"haproxy at {self.socket} has no backend {self.options.backend!r}")
        return found

    async def drain(self, server: str) -> None:
        await self._admin(f"set server {self.options.backend}/{server} state drain")

    async def ready(self, server: str) -> None:
        await self._admin(f"set server {self.options.backend}/{server} state ready")

    async def maintenance(self, on: bool) -> None:
        o = self.options
        if o.maintenance_map is None:
            raise DriverError(
                "haproxy: maintenance needs maintenance_map (the map the frontend picks "
                "its backend from)"
            )
        value = o.maintenance_backend if on else o.backend
        answer = (await self.command(f"set map {o.maintenance_map} {o.maintenance_key} {value}")).strip()
        if answer not in _SILENT_OK:  # the key is not in the map yet
            await self._admin(f"add map {o.maintenance_map} {o.maintenance_key} {value}")

    async def routed_to(self) -> str | None:
        """The backend the maintenance map sends requests to now (None without a map)."""
        o = self.options
        if o.maintenance_map is None:
            return None
        for line in (await self.command(f"show map {o.maintenance_map}")).splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] == o.maintenance_key:
                return parts[2]
        return None


def _state(row: dict[str, str]) -> ServerState:
    status = row.get("status", "")
    word = status.split(" ")[0]
    state: State = "up" if status == "no check" else _STATES.get(word, "down")
    if word == "UP" and "/" in status:
        state = "down"  # failing checks: on its way down
    if word == "MAINT" or status.startswith("MAINT"):
        state = "maint"
    scur = row.get("scur", "")
    return ServerState(
        name=row["svname"], state=state, status=status,
        connections=int(scur) if scur.isdigit() else None,
    )
