"""Talking to the local supervisor: start it if needed, send it requests, read its status."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from releasegate.errors import DriverError

_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes on Linux


@dataclass(frozen=True)
class SupervisorStatus:
    """What ``releasegate status`` shows for a local target."""

    pid: int
    address: str
    version: str | None
    uptime_s: float
    maintenance: bool
    processes: tuple[dict[str, Any], ...]


def _control_path(state_dir: Path) -> str:
    return str(state_dir.resolve() / "control.sock")


@contextlib.contextmanager
def _connectable(state_dir: Path) -> Iterator[str]:
    """A path to connect to ``control.sock`` by, however deep ``state_dir`` is.

    A Unix socket path has at most ~107 characters. For a deeper directory the path goes
    through ``/proc/self/fd/N`` of the directory, opened for the time of the connect (the
    supervisor binds it relative to its own working directory, so depth never stops it)."""
    path = _control_path(state_dir)
    if len(path) <= _SOCKET_PATH_MAX:
        yield path
        return
    try:
        fd = os.open(state_dir, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise DriverError(f"local target: cannot open {state_dir}: {exc.strerror}") from exc
    try:
        yield f"/proc/self/fd/{fd}/control.sock"
    finally:
        os.close(fd)


async def request(state_dir: Path, payload: dict[str, Any], *, timeout: float) -> dict[str, Any]:
    """Send one request to the supervisor and return its answer (``ok`` false raises)."""
    path = _control_path(state_dir)
    try:
        with _connectable(state_dir) as short:
            reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(short), 5)
    except (OSError, TimeoutError) as exc:
        raise DriverError(f"local target: no supervisor answers at {path} ({exc})") from exc
    try:
        writer.write(json.dumps(payload).encode() + b"\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout)
    except TimeoutError as exc:
        raise DriverError(
            f"local target: the supervisor did not answer {payload['cmd']!r} within {timeout:g}s"
        ) from exc
    finally:
        writer.close()
    if not line:
        raise DriverError(
            f"local target: the supervisor closed the connection on {payload['cmd']!r}"
        )
    answer: dict[str, Any] = json.loads(line)
    if not answer.get("ok"):
        raise DriverError(str(answer.get("error", "the supervisor refused")))
    return answer


def _to_status(answer: dict[str, Any]) -> SupervisorStatus:
    return SupervisorStatus(
        pid=answer["pid"],
        address=answer["address"],
        version=answer["version"],
        uptime_s=answer["uptime_s"],
        maintenance=answer["maintenance"],
        processes=tuple(answer["processes"]),
    )


async def status(state_dir: Path) -> SupervisorStatus | None:
    """The supervisor's status, or None when none runs for ``state_dir``."""
    if not (state_dir / "control.sock").exists():
        return None
    try:
        return _to_status(await request(state_dir, {"cmd": "status"}, timeout=5))
    except DriverError:
        return None


def read_status(state_dir: Path) -> SupervisorStatus | None:
    """:func:`status` for synchronous callers (``releasegate status``)."""
    return asyncio.run(status(state_dir))


async def ensure_supervisor(
    state_dir: Path, host: str, port: int, *, timeout: float = 15.0
) -> SupervisorStatus:
    """Return the running supervisor's status, starting the daemon first if none runs."""
    current = await status(state_dir)
    wanted = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if current is not None:
        if current.address != wanted:
            raise DriverError(
                f"local target: the supervisor in {state_dir} listens on "
                f"{current.address}, the config says {wanted}; stop it first"
            )
        return current
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    read_end, write_end = os.pipe()
    with (state_dir / "supervisor.log").open("ab") as out:
        intermediate = subprocess.Popen(
            [*supervisor_argv(state_dir, host, port), "--ready-fd", str(write_end)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            pass_fds=(write_end,),
            start_new_session=True,
        )
    os.close(write_end)
    try:
        line = await asyncio.to_thread(_read_line, read_end, timeout)
    finally:
        os.close(read_end)
        await asyncio.to_thread(intermediate.wait)
    if not line.startswith("ready"):
        reason = line.removeprefix("error ").strip() or f"no answer within {timeout:g}s"
        raise DriverError(
            f"local target: the supervisor did not start: {reason} "
            f"(log: {state_dir / 'supervisor.log'})"
        )
    started = await status(state_dir)
    if started is None:
        raise DriverError(
            f"local target: the supervisor started but does not answer "
            f"(log: {state_dir / 'supervisor.log'})"
        )
    return started


def supervisor_argv(state_dir: Path, host: str, port: int, *, foreground: bool = False) -> list[str]:
    """The supervisor daemon's command line (``foreground``: for a service manager)."""
    argv = [
        sys.executable,
        "-m",
        "releasegate.drivers.targets.local_supervisor",
        "--state-dir",
        str(state_dir),
        "--host",
        host,
        "--port",
        str(port),
    ]
    return [*argv, "--foreground"] if foreground else argv


def _read_line(fd: int, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    data = b""
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 256)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace")


def supervisor_pid(state_dir: Path) -> int | None:
    """The pid in the supervisor's pid file, if there is one."""
    try:
        return int((state_dir / "supervisor.pid").read_text().strip())
    except (OSError, ValueError):
        return None


async def wait_gone(pid: int, *, timeout: float) -> None:
    """Wait until process ``pid`` has exited (DriverError after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        except PermissionError:
            return  # not ours any more: the pid was reused
        await asyncio.sleep(0.05)
    raise DriverError(f"local target: the supervisor (pid {pid}) did not exit within {timeout:g}s")
