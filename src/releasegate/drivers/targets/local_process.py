"""One server process of a version as the local supervisor sees it: spawn, probe, signal, stop.

Every process gets its sockets at fixed descriptors, in systemd's socket-activation
convention (``LISTEN_FDS``, ``LISTEN_PID``): fd 3 is the listening socket and fd 4 a private
probe socket (``RELEASEGATE_PROBE_FD``). A server that speaks releasegate's protocol serves
fd 4 until ``admit`` on its control pipe at fd 5 (``RELEASEGATE_CONTROL_FD``); for any other
server fd 4 is a second socket in ``LISTEN_FDS=2``, which servers that serve every
inherited socket (gunicorn) answer on as soon as they accept on fd 3.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from releasegate.drivers.targets.local_cpus import cpus_of, release
from releasegate.drivers.targets.local_probe import wait_healthy

LISTEN_FD = 3
PROBE_FD = 4
CONTROL_FD = 5

# Run (with -I, stdlib only) between fork and the server's exec: moves the inherited
# descriptors to 3, 4, 5, sets LISTEN_PID to the server's own pid (known only after the
# fork) and asks the kernel to SIGTERM the server if the supervisor dies, so a server that
# knows nothing of the control pipe never outlives it either.
_PLACE_FDS = """
import ctypes, fcntl, os, sys
src = [int(f) for f in sys.argv[2].split(",")]
tmp = [fcntl.fcntl(f, fcntl.F_DUPFD, 10) for f in src]
for f in src: os.close(f)
for i, t in enumerate(tmp): os.dup2(t, 3 + i); os.close(t)
ctypes.CDLL(None).prctl(1, 15)
if os.getppid() != int(sys.argv[1]): sys.exit(70)
os.environ["LISTEN_PID"] = str(os.getpid())
os.execvp(sys.argv[3], sys.argv[3:])
"""

# what must not reach an app that runs its own interpreter: releasegate's import path
_INTERPRETER_VARS = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "PYTHONUSERBASE")


@dataclass(frozen=True)
class VersionSpec:
    """How to run one version: sent by the driver with every ``swap``."""

    version: str
    directory: Path
    command: tuple[str, ...]
    """An argv template: ``{fd}``, ``{version}``, ``{port}``, ``{version_dir}``, ``{python}``,
    ``{workers}``, ``{serve}`` are replaced."""
    env: Mapping[str, str] = field(default_factory=dict)
    health_path: str = "/monitoring/health"
    health_timeout: float = 30.0
    quiesce: float = 1.0
    drain_timeout: float = 30.0
    protocol: bool = True
    """The server reads RELEASEGATE_PROBE_FD / RELEASEGATE_CONTROL_FD (admit, quiesce)."""
    workers: int = 1
    """Processes started per version (protocol servers; others get ``{workers}``)."""
    python: str | None = None
    """The app's own interpreter; None runs it under releasegate's."""
    boot_cpus: int | None = None
    """How many CPUs a new version boots on (``local_cpus``; None: all but one)."""


def listening_socket(host: str, port: int, *, backlog: int = 2048) -> socket.socket:
    """A TCP listening socket with TCP_NODELAY (accepted sockets inherit it on Linux)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    return sock


def fill(template: Sequence[str], values: Mapping[str, str]) -> list[str]:
    """``template`` with every ``{name}`` of ``values`` replaced (other braces kept)."""
    out = []
    for arg in template:
        for key, value in values.items():
            arg = arg.replace("{" + key + "}", value)
        out.append(arg)
    return out


def serve_script() -> str:
    """The path of ``local_serve.py``: run as a file, so the app's interpreter needs only
    uvicorn, not releasegate."""
    return str(Path(__file__).with_name("local_serve.py"))


def app_environment(spec: VersionSpec, values: Mapping[str, str]) -> dict[str, str]:
    """The environment a version's server starts with."""
    base = dict(os.environ)
    if spec.python is not None:
        for name in _INTERPRETER_VARS:
            base.pop(name, None)
        venv = Path(spec.python).parent.parent
        if (venv / "pyvenv.cfg").is_file():
            base["VIRTUAL_ENV"] = str(venv)
            base["PATH"] = f"{venv / 'bin'}{os.pathsep}{base.get('PATH', '')}"
    return {
        **base,
        **{k: fill([v], values)[0] for k, v in spec.env.items()},
        "RELEASEGATE_VERSION": spec.version,
        "LISTEN_FDS": "1" if spec.protocol else "2",
        "LISTEN_FDNAMES": "http" if spec.protocol else "http:probe",
        "RELEASEGATE_PROBE_FD": str(PROBE_FD),
    }


@contextlib.contextmanager
def _forking_on(cpus: Sequence[int]) -> Iterator[None]:
    """While the body forks, this thread runs on ``cpus``: the child starts pinned to them
    from its first instruction (the fd helper's interpreter included), and no ``preexec_fn``
    runs in the child. Nothing to pin: nothing changes."""
    if not cpus:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


class VersionProcess:
    """A running server process of one version, with its probe address and control pipe."""

    def __init__(
        self,
        spec: VersionSpec,
        proc: asyncio.subprocess.Process,
        control: int | None,
        probe_port: int,
        log: Path,
        *,
        check_port: int | None = None,
        pinned: bool = False,
    ) -> None:
        self.spec = spec
        self.pinned = pinned
        """Started pinned to the boot CPUs, until :meth:`release_cpus`."""
        self.proc = proc
        self.probe_port = probe_port
        """The port of the private socket at fd 4."""
        self.check_port = probe_port if check_port is None else check_port
        """Where the health check goes (fd 3 in a rehearsal, else fd 4)."""
        self.log = log
        self.state = "starting"
        self.started_at = time.time()
        self._control = control

    @classmethod
    async def spawn(
        cls,
        spec: VersionSpec,
        listen: socket.socket,
        *,
        port: int,
        log_dir: Path,
        worker: int = 0,
        private: bool = False,
        cpus: Sequence[int] = (),
    ) -> VersionProcess:
        """Start one server of ``spec`` with ``listen`` at fd 3 (and, for a protocol
        server, a control pipe at fd 5), a fresh probe socket at fd 4. ``private``:
        ``listen`` is itself a private socket and the health check goes there. ``cpus``: it
        starts pinned to them."""
        probe = listening_socket("127.0.0.1", 0, backlog=64)
        read_end, write_end = os.pipe() if spec.protocol else (None, None)
        values = {
            "fd": str(LISTEN_FD),
            "version": spec.version,
            "port": str(port),
            "version_dir": str(spec.directory),
            "python": spec.python or sys.executable,
            "workers": str(spec.workers),
            "drain_timeout": f"{spec.drain_timeout:g}",
            "serve": serve_script(),
        }
        env = app_environment(spec, values)
        env["RELEASEGATE_WORKER"] = str(worker)
        fds = [listen.fileno(), probe.fileno()]
        if read_end is not None:
            fds.append(read_end)
            env["RELEASEGATE_CONTROL_FD"] = str(CONTROL_FD)
        argv = fill(spec.command, values)
        log_dir.mkdir(parents=True, exist_ok=True)
        log = log_dir / f"{spec.version}.log"
        helper = [sys.executable, "-I", "-c", _PLACE_FDS, str(os.getpid())]
        try:
            with log.open("ab") as out, _forking_on(cpus):
                proc = await asyncio.create_subprocess_exec(
                    *helper,
                    ",".join(map(str, fds)),
                    *argv,
                    cwd=spec.directory,
                    env=env,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=out,
                    stderr=out,
                    pass_fds=fds,
                )
        except OSError as exc:
            if write_end is not None:
                os.close(write_end)
            raise RuntimeError(f"cannot start version {spec.version}: {exc}") from exc
        finally:
            if read_end is not None:
                os.close(read_end)
            probe_port = probe.getsockname()[1]
            probe.close()
        check = listen.getsockname()[1] if private else None
        return cls(spec, proc, write_end, probe_port, log, check_port=check, pinned=bool(cpus))

    def release_cpus(self) -> None:
        """Let it and its descendants use every CPU (once; no-op if it was not pinned)."""
        if self.pinned and self.proc.returncode is None:
            release(self.pid)
        self.pinned = False

    @property
    def pid(self) -> int:
        """The server's pid (the fd helper execs into it)."""
        return self.proc.pid

    def tell(self, line: str) -> None:
        """Send one control command; a process that has gone away (or has no pipe) is ignored."""
        if self._control is None:
            return
        with contextlib.suppress(OSError):
            os.write(self._control, line.encode() + b"\n")

    async def wait_healthy(self, *, port: int | None = None, timeout: float | None = None) -> float:
        """Poll the health path on ``port`` (default: where the health check goes) until
        2xx; returns the seconds it took, RuntimeError says what failed."""
        return await wait_healthy(
            self.proc,
            self.check_port if port is None else port,
            self.spec.health_path,
            self.spec.health_timeout if timeout is None else timeout,
            self.log,
            protocol=self.spec.protocol,
        )

    async def stop(self, *, drain_timeout: float | None = None) -> int:
        """SIGTERM (the server drains), then SIGKILL after the drain timeout; returns the code."""
        self.state = "draining"
        timeout = self.spec.drain_timeout if drain_timeout is None else drain_timeout
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                self.proc.kill()
        code = await self.proc.wait()
        if self._control is not None:
            with contextlib.suppress(OSError):
                os.close(self._control)
            self._control = None
        self.state = "stopped"
        return code

    def describe(self) -> dict[str, object]:
        """What ``status`` shows of this process."""
        return {
            "version": self.spec.version,
            "pid": self.pid,
            "state": self.state,
            "probe_port": self.probe_port,
            "started_at": self.started_at,
            "cpus": cpus_of(self.pid),
        }
