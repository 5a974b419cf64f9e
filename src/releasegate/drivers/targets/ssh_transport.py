"""Reaching one host with the system's OpenSSH: the agent call and the artifact's transfer.

Every ssh runs with ``BatchMode=yes`` (no prompt can hang a deploy) and
``StrictHostKeyChecking=yes``: a host whose key is not in known_hosts, or differs from it,
is refused, and the error says which. Requests to the agent go on ssh's stdin, never on its
command line: they carry the app's environment, secrets resolved (a command line is
visible to every user of the host in ``ps``). The processes are run here rather than with
``drivers.process.run_process``, which has no stdin.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from releasegate.errors import DriverError

AGENT_MODULE = "releasegate.drivers.targets.ssh_agent"
_OUTPUT_LIMIT = 256 * 1024


@dataclass(frozen=True)
class Endpoint:
    """How to reach one host: the resolved connection settings."""

    name: str
    host: str
    port: int
    user: str | None
    identity_file: Path | None
    known_hosts: Path | None
    options: tuple[str, ...]
    connect_timeout: float
    python: str
    agent_env: tuple[tuple[str, str], ...]

    @property
    def destination(self) -> str:
        return f"{self.user}@{self.host}" if self.user else self.host

    def ssh_options(self) -> list[str]:
        """The ``-o`` options every ssh and transfer to this host uses."""
        opts = [
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes",
            "-o", f"ConnectTimeout={max(1, round(self.connect_timeout))}",
            "-o", "ServerAliveInterval=5",
            "-o", "ServerAliveCountMax=3",
        ]
        if self.known_hosts is not None:
            opts += ["-o", f"UserKnownHostsFile={self.known_hosts}"]
        if self.identity_file is not None:
            opts += ["-i", str(self.identity_file), "-o", "IdentitiesOnly=yes"]
        for option in self.options:
            opts += ["-o", option]
        return opts

    def ssh_argv(self, remote: str) -> list[str]:
        return ["ssh", "-p", str(self.port), *self.ssh_options(), self.destination, remote]

    def agent_command(self) -> str:
        """The remote command line that runs the agent (a string: ssh hands it to a shell)."""
        env = [f"{k}={v}" for k, v in self.agent_env]
        argv = (["env", *env] if env else []) + [self.python, "-m", AGENT_MODULE]
        return shlex.join(argv)


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str


async def run(argv: list[str], *, stdin: bytes = b"", timeout: float) -> Finished:
    """Run ``argv`` in its own process group, feed it ``stdin``; kill the group after ``timeout``."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise DriverError(f"cannot run {argv[0]}: {exc.strerror or exc}") from exc
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin), timeout)
    except TimeoutError:
        await _kill(proc)
        raise DriverError(f"{argv[0]} did not finish within {timeout:g}s") from None
    except asyncio.CancelledError:
        await _kill(proc)
        raise
    return Finished(
        proc.returncode if proc.returncode is not None else -1,
        out[-_OUTPUT_LIMIT:].decode(errors="replace"),
        err[-_OUTPUT_LIMIT:].decode(errors="replace"),
    )


async def _kill(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    await proc.wait()


def connection_problem(endpoint: Endpoint, stderr: str) -> str:
    """What ssh's stderr says went wrong reaching ``endpoint``, in one sentence."""
    where = f"{endpoint.destination}:{endpoint.port}"
    if "REMOTE HOST IDENTIFICATION HAS CHANGED" in stderr:
        return (
            f"{where}: its host key differs from the one in known_hosts "
            "(a reinstalled host, or someone in between); refused. Check the new key and "
            "replace the old one in known_hosts"
        )
    if "Host key verification failed" in stderr or "host key is known" in stderr:
        return (
            f"{where}: its host key is not in known_hosts; refused. Add it after checking "
            "its fingerprint (ssh-keyscan)"
        )
    last = next((ln.strip() for ln in reversed(stderr.splitlines()) if ln.strip()), "no output")
    return f"{where}: ssh failed: {last}"


async def call_agent(
    endpoint: Endpoint, request: dict[str, Any], *, timeout: float
) -> dict[str, Any]:
    """Run the agent on the host with ``request``; its JSON answer (``ok`` false raises)."""
    result = await run(
        endpoint.ssh_argv(endpoint.agent_command()),
        stdin=json.dumps(request).encode(),
        timeout=timeout,
    )
    if result.returncode == 255:
        raise DriverError(connection_problem(endpoint, result.stderr))
    last = next((ln for ln in reversed(result.stdout.splitlines()) if ln.strip()), "")
    try:
        answer: dict[str, Any] = json.loads(last)
    except ValueError:
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise DriverError(
            "releasegate on the host did not answer "
            f"({endpoint.python} -m {AGENT_MODULE} exited {result.returncode}: {tail})"
        ) from None
    if not answer.get("ok"):
        raise DriverError(str(answer.get("error", "refused")))
    return answer


_RSYNC_EXITS = {
    3: "errors selecting input/output files or directories on the host",
    11: "error in file I/O on the host (a full disk, or a directory it may not write?)",
    12: "error in the rsync protocol data stream (the host's side ended: a full disk?)",
    23: "partial transfer due to an error",
}
"""rsync's documented exit codes, for when the host's message never reached us."""


async def upload(endpoint: Endpoint, local: Path, remote: str, *, how: str, timeout: float) -> None:
    """Copy ``local`` to ``remote`` on the host with rsync or scp (through the same ssh)."""
    target = f"{endpoint.destination}:{remote}"
    if how == "rsync":
        shell = shlex.join(["ssh", "-p", str(endpoint.port), *endpoint.ssh_options()])
        argv = ["rsync", "--inplace", "-e", shell, str(local), target]
    else:
        argv = ["scp", "-q", "-P", str(endpoint.port), *endpoint.ssh_options(), str(local), target]
    result = await run(argv, timeout=timeout)
    if result.returncode == 0:
        return
    if "Host key verification failed" in result.stderr or "IDENTIFICATION HAS CHANGED" in result.stderr:
        raise DriverError(connection_problem(endpoint, result.stderr))
    lines = [ln.strip() for ln in result.stderr.splitlines() if ln.strip()]
    # rsync and scp say what went wrong first ("rsync: ... No space left on device (28)"),
    # then sum up ("rsync error: error in file IO (code 11)")
    reason = next((ln for ln in lines if ln.startswith(f"{how}: ")), lines[-1] if lines else "")
    if not reason:  # the receiver's own message can be lost with its connection
        reason = _RSYNC_EXITS.get(result.returncode, "no output") if how == "rsync" else "no output"
    raise DriverError(f"{how} of the artifact to {remote} failed (exit {result.returncode}): {reason}")
