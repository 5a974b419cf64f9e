"""One host of a rolling deploy: its connection, what happened to it, and its evidence."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import JsonValue

from releasegate.drivers.api import StepContext
from releasegate.drivers.targets.ssh_options import HostSpec, SshOptions, app_options
from releasegate.drivers.targets.ssh_transport import Endpoint


@dataclass
class HostRun:
    """A host's part in one roll. ``status``: pending, shipped, switched, unchanged (it
    already served the version), failed, rolled back, rollback failed, not reached."""

    spec: HostSpec
    endpoint: Endpoint
    address: str
    dir: str
    app: dict[str, JsonValue]
    batch: int = 0
    status: str = "pending"
    stage: str | None = None
    """Where it failed: connect, ship, drain, swap, health, smoke, ready."""
    error: str | None = None
    previous: str | None = None
    live: str | None = None
    """The version it served before the roll (None: nothing, or not known)."""
    switched_at: float | None = None
    figures: dict[str, JsonValue] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def port(self) -> int:
        port = self.app.get("port", 8000)
        return port if isinstance(port, int) else 8000

    def fail(self, stage: str, error: str) -> None:
        self.status, self.stage, self.error = "failed", stage, error

    def switched(self, previous: str | None) -> None:
        self.status, self.previous, self.switched_at = "switched", previous, time.time()

    def evidence(self) -> dict[str, JsonValue]:
        found: dict[str, JsonValue] = {
            "host": self.name,
            "ssh": f"{self.endpoint.destination}:{self.endpoint.port}",
            "address": f"{self.address}:{self.port}",
            "batch": self.batch,
            "status": self.status,
            "previous": self.previous,
            **self.figures,
        }
        if self.error is not None:
            found["stage"] = self.stage
            found["error"] = self.error
        return found


def host_runs(opts: SshOptions, ctx: StepContext) -> list[HostRun]:
    """A :class:`HostRun` for every host of ``opts``, in rolling order."""
    def local_path(value: str | None) -> Path | None:
        if value is None:
            return None
        path = Path(value).expanduser()
        return path if path.is_absolute() else ctx.workdir / path

    runs = []
    for spec in opts.hosts:
        endpoint = Endpoint(
            name=spec.name,
            host=spec.host,
            port=spec.port or opts.port,
            user=spec.user or opts.user,
            identity_file=local_path(opts.identity_file),
            known_hosts=local_path(opts.known_hosts),
            options=tuple(opts.ssh_options),
            connect_timeout=opts.connect_timeout.total_seconds(),
            python=opts.python,
            agent_env=tuple(sorted(opts.agent_env.items())),
        )
        address = spec.address or spec.host
        directory = opts.dir.replace("{environment}", ctx.release.environment).replace(
            "{host}", spec.name
        )
        app = app_options(opts, address=address)
        app.pop("app", None)
        runs.append(HostRun(spec, endpoint, address, directory, app))
    return runs
