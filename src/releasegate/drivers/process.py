"""Running a command for a driver: its own process group, capped output, secrets redacted.

:func:`run_process` is the one place drivers start subprocesses. The child runs in a new
session (so in its own process group): when the engine's timeout cancels the step, the
whole group is sent SIGTERM, then SIGKILL after a grace period, and the cancellation is
re-raised. Output (stdout and stderr interleaved) is read incrementally and only its head
and tail are kept, so a step printing megabytes costs a fixed amount of memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from releasegate import leftovers
from releasegate.drivers import placeholders
from releasegate.drivers.api import StepContext
from releasegate.errors import DriverError, ReleasegateError

OUTPUT_LIMIT = 64 * 1024
"""Bytes of output kept per command (half from the start, half from the end)."""
KILL_GRACE_S = 5.0
"""Seconds between SIGTERM and SIGKILL when a command is cancelled."""
_DRAIN_AFTER_EXIT_S = 0.5
"""How long to keep reading once the command exits (a daemon it started may hold the pipe)."""
_CHUNK = 64 * 1024


class CappedBuffer:
    """Keeps the first and last ``limit // 2`` bytes written to it and counts the rest."""

    def __init__(self, limit: int = OUTPUT_LIMIT) -> None:
        self._half = max(limit // 2, 1)
        self._head = bytearray()
        self._tail = bytearray()
        self.dropped = 0

    def write(self, data: bytes) -> None:
        room = self._half - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if not data:
            return
        self._tail += data
        excess = len(self._tail) - self._half
        if excess > 0:
            del self._tail[:excess]
            self.dropped += excess

    def text(self, redact: Callable[[str], str] = lambda text: text) -> str:
        """What was kept, each piece redacted on its own: a secret cut by the drop shows
        its head at the end of one piece or its tail at the start of the other, and
        ``redact`` hides a cut secret at a text's edges."""
        head = self._head.decode("utf-8", errors="replace")
        tail = self._tail.decode("utf-8", errors="replace")
        if self.dropped:
            return (
                f"{redact(head)}\n[... {self.dropped} bytes of output dropped ...]\n"
                f"{redact(tail)}"
            )
        return redact(head + tail)


@dataclass(frozen=True)
class ProcessResult:
    """How a command ended. ``output`` is already capped and redacted."""

    argv: tuple[str, ...]
    returncode: int | None
    """``None`` when the command could not be started (see ``error``)."""
    output: str
    dropped: int
    duration_s: float
    error: str | None = None
    left_running: tuple[str, ...] = ()
    """Processes of the command's process group still running after it exited (daemons
    it started), as ``PID COMMAND``: they outlive the step, and the record says so."""

    @property
    def ok(self) -> bool:
        return self.error is None and self.returncode == 0

    def describe(self) -> str:
        """``exited 0``, ``exited with status 3``, ``killed by SIGKILL`` or the start error."""
        if self.error is not None:
            return self.error
        rc = self.returncode
        if rc is not None and rc < 0:
            try:
                name = signal.Signals(-rc).name
            except ValueError:
                name = f"signal {-rc}"
            return f"killed by {name}"
        return "exited 0" if rc == 0 else f"exited with status {rc}"

    def last_line(self) -> str:
        """The last non-empty line of output (usually the error message), or ``""``."""
        for line in reversed(self.output.splitlines()):
            if line.strip():
                return line.strip()
        return ""


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


async def _terminate_group(pid: int, exited: asyncio.Future[None], grace: float) -> None:
    _signal_group(pid, signal.SIGTERM)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(exited), grace)
    # The leader may have exited on SIGTERM while children linger: kill what is left.
    _signal_group(pid, signal.SIGKILL)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(exited), grace)


def _watch_exit(
    proc: subprocess.Popen[bytes], loop: asyncio.AbstractEventLoop
) -> tuple[asyncio.Future[None], Callable[[], None]]:
    """A future set when ``proc`` exits, and the function that stops watching it.

    A pidfd (Linux 5.3+) is readable once the process exits: the loop itself notices,
    where asyncio starts a thread per process (about 0.5 ms more per command, measured).
    """
    exited: asyncio.Future[None] = loop.create_future()

    def done(*_: object) -> None:
        if not exited.done():
            exited.set_result(None)

    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # no pidfd here: a pooled thread waits instead
        loop.run_in_executor(None, proc.wait).add_done_callback(done)
        return exited, lambda: None
    loop.add_reader(pidfd, done)

    def unwatch() -> None:
        loop.remove_reader(pidfd)
        os.close(pidfd)

    return exited, unwatch


def _read_into(
    buffer: CappedBuffer, fd: int, loop: asyncio.AbstractEventLoop
) -> asyncio.Future[None]:
    """Read ``fd`` into ``buffer`` from the loop; the future is set at end of file."""
    eof: asyncio.Future[None] = loop.create_future()
    os.set_blocking(fd, False)

    def readable() -> None:
        try:
            chunk = os.read(fd, _CHUNK)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if chunk:
            buffer.write(chunk)
        elif not eof.done():
            loop.remove_reader(fd)
            eof.set_result(None)

    loop.add_reader(fd, readable)
    return eof


Environment = Mapping[str, str] | Mapping[bytes, bytes]
"""A child's whole environment: text, or bytes as the OS holds them (nothing to encode)."""


async def run_process(
    argv: Sequence[str] | str,
    *,
    cwd: Path,
    env: Environment | None = None,
    shell: bool = False,
    redact: Callable[[str], str] = lambda text: text,
    limit: int = OUTPUT_LIMIT,
    grace: float = KILL_GRACE_S,
    stdout_file: Path | None = None,
    track: Path | None = None,
) -> ProcessResult:
    """Run ``argv`` (or a shell string when ``shell``) in its own process group.

    With ``track``, the group is recorded in that directory while it runs (see
    :mod:`releasegate.leftovers`).

    ``env`` is the complete environment of the child (``None``: inherit ours). With
    ``stdout_file``, stdout is written there whole (for machine-readable output) and only
    stderr is captured. A command that cannot be started gives a result with ``error``
    set, never an exception; cancellation kills the process group and is re-raised.
    """
    shown: tuple[str, ...] = (argv,) if isinstance(argv, str) else tuple(argv)
    started = time.monotonic()

    def failed(message: str) -> ProcessResult:
        return ProcessResult(shown, None, "", 0, time.monotonic() - started, redact(message))

    if not shown or (not shell and not shown[0]):
        return failed("empty command")
    if not cwd.is_dir():
        return failed(f"working directory {cwd} does not exist")
    loop = asyncio.get_running_loop()
    buffer = CappedBuffer(limit)
    # Our own pipe, read from the loop: waiting for the pipe to close as well as for the
    # process would wait forever for a daemon the command started (it holds the pipe).
    read_fd, write_fd = os.pipe()
    out_handle = stdout_file.open("wb") if stdout_file is not None else None
    try:
        try:
            stdout = out_handle if out_handle is not None else write_fd
            proc = subprocess.Popen(
                argv if shell else shown, shell=shell, cwd=str(cwd), start_new_session=True,
                env=env,
                stdin=subprocess.DEVNULL, stdout=stdout, stderr=write_fd,
            )
        except FileNotFoundError:
            return failed(f"command not found: {shown[0]}")
        except PermissionError:
            return failed(f"command is not executable: {shown[0]}")
        except OSError as exc:
            return failed(f"could not start {shown[0]}: {exc.strerror or exc}")
        finally:
            os.close(write_fd)
        marker = leftovers.record(track, proc.pid) if track is not None else None
        eof = _read_into(buffer, read_fd, loop)
        exited, unwatch = _watch_exit(proc, loop)
        try:
            await asyncio.shield(exited)
            if not eof.done():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(eof), _DRAIN_AFTER_EXIT_S)
        except asyncio.CancelledError:
            await asyncio.shield(_terminate_group(proc.pid, exited, grace))
            raise
        finally:
            unwatch()
            proc.poll()  # reap it (a cancelled one too)
            leftovers.forget(marker)
        returncode = proc.wait()
    finally:
        loop.remove_reader(read_fd)
        os.close(read_fd)
        if out_handle is not None:
            out_handle.close()
    return ProcessResult(
        shown, returncode, buffer.text(redact), buffer.dropped, time.monotonic() - started,
        left_running=tuple(redact(p) for p in _group_members(proc.pid)),
    )


def _group_members(pgid: int) -> list[str]:
    """``PID COMMAND`` of each process still in group ``pgid`` (none, usually: checked
    with one signal-0 call before anything is read from /proc)."""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return []
    found: list[str] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) != pgid or fields[0] == "Z":  # field 5: pgrp; Z: a zombie
                continue
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            found.append(f"{entry} {cmdline.decode(errors='replace').strip()[:120]}")
        except (OSError, ValueError, IndexError):
            continue
    return found


# --- commands as drivers configure them -------------------------------------------------

Command = list[str] | str
"""An argv list, or a string run by the shell (only with ``shell: true``)."""


def command_problem(value: Command | None, *, shell: bool, field: str) -> str | None:
    """Why ``value`` is not a usable command given ``shell``, or ``None`` when it is."""
    if value is None:
        return None
    if isinstance(value, str):
        if not shell:
            return (
                f"{field} is a string: write it as a list of arguments "
                f"(e.g. [npm, test]) or set shell: true"
            )
        if not value.strip():
            return f"{field} is empty"
        return None
    if shell:
        return f"{field} is a list but shell: true needs a single command string"
    if not value or not value[0]:
        return f"{field} is empty"
    return None


def substitute(value: Command, values: Mapping[str, str], *, shell: bool = False) -> Command:
    """Replace ``{name}`` placeholders (e.g. ``{version}``) in a command; ``{{name}}`` is the
    literal ``{name}`` (see :mod:`releasegate.drivers.placeholders`).

    With ``shell`` (a command string run by /bin/sh) each value is shell-quoted, so a
    value is one word whatever it holds: write ``./deploy.sh {version}``, not
    ``'{version}'``. Values the version grammar allows need no quotes and get none.
    """
    if isinstance(value, str):
        return placeholders.fill(value, values, shell=shell)
    return [placeholders.fill(part, values, shell=shell) for part in value]


def resolve_secret(ctx: StepContext, value: str, *, what: str) -> str:
    """``ctx.secrets.resolve(value)``, with a failure turned into a :class:`DriverError`
    that names ``what`` (never the value)."""
    try:
        return ctx.secrets.resolve(value)
    except (ReleasegateError, LookupError, ValueError, OSError) as exc:
        raise DriverError(f"{what}: {exc}") from exc


def command_env(ctx: StepContext, extra: Mapping[str, str]) -> dict[bytes, bytes]:
    """Our environment, plus ``ctx.env``, plus a step's ``env`` (secret references resolved),
    as bytes.

    ``os.environb`` is the environment as the OS gave it, in bytes: copying it decodes and
    encodes nothing, where ``{**os.environ}`` decoded every variable and the child's start
    encoded each again, for every command (about half the environment's cost per command
    with 40 variables). ``ctx.env``, the same for every step of a deployment, is encoded
    once. What remains is subprocess's own pass over the variables.
    """
    env = dict(os.environb)
    env.update(_encoded(tuple(ctx.env.items())))
    for name, value in extra.items():
        resolved = resolve_secret(ctx, value, what=f"env.{name}")
        env[os.fsencode(name)] = os.fsencode(resolved)
    return env


@functools.lru_cache(maxsize=16)
def _encoded(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple((os.fsencode(name), os.fsencode(value)) for name, value in pairs)


async def run_command(
    ctx: StepContext,
    command: Command,
    *,
    shell: bool = False,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    stdout_file: Path | None = None,
) -> ProcessResult:
    """Run a configured command: ``cwd`` relative to ``ctx.workdir``, output redacted.

    Secret references (``${env:NAME}``, ``${file:PATH}``) in the arguments and in ``env``
    are resolved here, at run time, and ``$${`` gives a literal ``${`` (shell variables).
    Raises :class:`DriverError` only for a reference that cannot be resolved; everything
    else is reported in the returned :class:`ProcessResult`.
    """
    argv: Command = (
        resolve_secret(ctx, command, what="run")
        if isinstance(command, str)
        else [resolve_secret(ctx, part, what="run") for part in command]
    )
    return await run_process(
        argv,
        shell=shell,
        cwd=ctx.workdir / cwd if cwd else ctx.workdir,
        env=command_env(ctx, env or {}),
        redact=ctx.secrets.redact,
        stdout_file=stdout_file,
        track=running_dir(ctx.state_dir, ctx.deployment_id),
    )


def running_dir(state_dir: Path, deployment_id: int) -> Path:
    """Where a deployment's running commands are recorded."""
    return state_dir / "running" / str(deployment_id)
