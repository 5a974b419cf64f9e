"""One version's server process as the local supervisor sees it: spawn, probe, signal, stop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class VersionSpec:
    """How to run one version: sent by the driver with every ``swap``."""

    version: str
    directory: Path
    command: tuple[str, ...]
    """An argv template: ``{fd}``, ``{version}``, ``{port}``, ``{version_dir}``, ``{python}``."""
    env: Mapping[str, str] = field(default_factory=dict)
    health_path: str = "/monitoring/health"
    health_timeout: float = 30.0
    quiesce: float = 1.0
    drain_timeout: float = 30.0


def listening_socket(host: str, port: int, *, backlog: int = 2048) -> socket.socket:
    """A TCP listening socket with TCP_NODELAY (accepted sockets inherit it on Linux)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    return sock


def _fill(template: Sequence[str], values: Mapping[str, str]) -> list[str]:
    out = []
    for arg in template:
        for key, value in values.items():
            arg = arg.replace("{" + key + "}", value)
        out.append(arg)
    return out


class VersionProcess:
    """A running server of one version, with its private probe socket and control pipe."""

    def __init__(
        self,
        spec: VersionSpec,
        proc: asyncio.subprocess.Process,
        control: int,
        probe_port: int,
        log: Path,
    ) -> None:
        self.spec = spec
        self.proc = proc
        self.probe_port = probe_port
        self.log = log
        self.state = "starting"
        self.started_at = time.time()
        self._control = control

    @classmethod
    async def spawn(
        cls, spec: VersionSpec, shared: socket.socket, *, port: int, python: str, log_dir: Path
    ) -> VersionProcess:
        """Start the version's command with the shared socket, a probe socket and a pipe."""
        probe = listening_socket("127.0.0.1", 0, backlog=64)
        read_end, write_end = os.pipe()
        values = {
            "fd": str(shared.fileno()),
            "version": spec.version,
            "port": str(port),
            "version_dir": str(spec.directory),
            "python": python,
        }
        env = {
            **os.environ,
            **{k: _fill([v], values)[0] for k, v in spec.env.items()},
            "RELEASEGATE_VERSION": spec.version,
            "RELEASEGATE_PROBE_FD": str(probe.fileno()),
            "RELEASEGATE_CONTROL_FD": str(read_end),
        }
        log_dir.mkdir(parents=True, exist_ok=True)
        log = log_dir / f"{spec.version}.log"
        try:
            with log.open("ab") as out:
                proc = await asyncio.create_subprocess_exec(
                    *_fill(spec.command, values),
                    cwd=spec.directory,
                    env=env,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=out,
                    stderr=out,
                    pass_fds=(shared.fileno(), probe.fileno(), read_end),
                )
        except OSError as exc:
            os.close(write_end)
            raise RuntimeError(f"cannot start version {spec.version}: {exc}") from exc
        finally:
            os.close(read_end)
            probe_port = probe.getsockname()[1]
            probe.close()
        return cls(spec, proc, write_end, probe_port, log)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def tell(self, line: str) -> None:
        """Send one control command; a process that has gone away is ignored."""
        with contextlib.suppress(OSError):
            os.write(self._control, line.encode() + b"\n")

    async def wait_healthy(self) -> None:
        """Poll the health path on the probe socket; raise RuntimeError with the reason."""
        url = f"http://127.0.0.1:{self.probe_port}{self.spec.health_path}"
        deadline = time.monotonic() + self.spec.health_timeout
        last = "no answer"
        import httpx  # only where a request is sent

        async with httpx.AsyncClient(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self.proc.returncode is not None:
                    raise RuntimeError(
                        f"exited with code {self.proc.returncode} before it was "
                        f"healthy{self._last_log_line()}"
                    )
                try:
                    response = await client.get(url)
                except httpx.HTTPError as exc:
                    last = f"no answer ({type(exc).__name__})"
                else:
                    if response.is_success:
                        return
                    last = f"HTTP {response.status_code}"
                await asyncio.sleep(0.05)
        raise RuntimeError(
            f"GET {self.spec.health_path} answered {last}, not 2xx, within "
            f"{self.spec.health_timeout:g}s{self._last_log_line()}"
        )

    def _last_log_line(self) -> str:
        try:
            lines = [ln for ln in self.log.read_text(errors="replace").splitlines() if ln.strip()]
        except OSError:
            return ""
        return f"; last log line: {lines[-1].strip()}" if lines else ""

    async def stop(self, *, drain_timeout: float | None = None) -> int:
        """SIGTERM (uvicorn drains), then SIGKILL after the drain timeout; returns the code."""
        self.state = "draining"
        timeout = self.spec.drain_timeout if drain_timeout is None else drain_timeout
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                self.proc.kill()
        code = await self.proc.wait()
        with contextlib.suppress(OSError):
            os.close(self._control)
        self.state = "stopped"
        return code

    def describe(self) -> dict[str, object]:
        return {
            "version": self.spec.version,
            "pid": self.pid,
            "state": self.state,
            "probe_port": self.probe_port,
            "started_at": self.started_at,
        }
