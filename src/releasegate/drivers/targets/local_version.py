"""One version as the local supervisor runs it: its worker processes, started, proven
healthy, admitted, quiesced and stopped together.

A server that speaks releasegate's protocol (``local_serve``, or any server reading
``RELEASEGATE_PROBE_FD``/``RELEASEGATE_CONTROL_FD``) is started ``workers`` times on the
shared socket, each health-checked on its own probe socket before ``admit``. Any other
server (``protocol: listen-fds``) cannot be told when to start accepting, so it is first
*rehearsed*: started on a private socket at fd 3, health-checked there and stopped; then
started on the shared socket. The old version keeps accepting until the new one is ready
(the kernel hands each queued connection to whichever is accepting): ready is a 2xx on the
second, private socket at fd 4 for a server that serves every socket in ``LISTEN_FDS``
(the rehearsal found out), else the time the rehearsal took to become healthy, ×1.5.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

from releasegate.drivers.targets.local_cpus import boot_set, pin_tree
from releasegate.drivers.targets.local_process import (
    VersionProcess,
    VersionSpec,
    listening_socket,
)


async def _answers(proc: VersionProcess, port: int) -> bool:
    """Whether ``proc`` (healthy on fd 3) also answers on ``port`` at fd 4 within 2 s."""
    try:
        await proc.wait_healthy(port=port, timeout=2.0)
    except RuntimeError:
        return False
    return True


@contextlib.asynccontextmanager
async def _booting(
    procs: list[VersionProcess], health_timeout: float, *, release: bool = True
) -> AsyncIterator[None]:
    """While the body waits for ``procs`` to be healthy they may run pinned to the boot
    CPUs; they are released to all when it ends, or after half the health timeout."""

    async def grace() -> None:
        await asyncio.sleep(health_timeout / 2)
        for proc in procs:
            proc.release_cpus()

    later = asyncio.ensure_future(grace())
    try:
        yield
    finally:
        later.cancel()
        if release:
            for proc in procs:
                proc.release_cpus()


class Version:
    """The processes of one version (``workers`` of them for a protocol server)."""

    def __init__(self, spec: VersionSpec, procs: list[VersionProcess]) -> None:
        self.spec = spec
        self.procs = procs
        self.health_s = 0.0

    @property
    def pid(self) -> int:
        """The first process's pid (what ``swap`` reports)."""
        return self.procs[0].pid

    @property
    def state(self) -> str:
        return self.procs[0].state

    @state.setter
    def state(self, value: str) -> None:
        for proc in self.procs:
            proc.state = value

    @classmethod
    async def start(cls, spec: VersionSpec, shared: socket.socket, log_dir: Path) -> Version:
        """Start the version and return once it is healthy (RuntimeError says why not).

        Its processes boot pinned to ``boot_cpus`` CPUs (``local_cpus``) and are released
        to all before this returns."""
        port = shared.getsockname()[1]
        cpus = boot_set(spec.boot_cpus)
        if spec.protocol:
            return await cls._start_protocol(spec, shared, port, log_dir, cpus)
        return await cls._start_rehearsed(spec, shared, port, log_dir, cpus)

    @classmethod
    async def _start_protocol(
        cls, spec: VersionSpec, shared: socket.socket, port: int, log_dir: Path,
        cpus: list[int],
    ) -> Version:
        t0 = time.monotonic()
        procs = [
            await VersionProcess.spawn(
                spec, shared, port=port, log_dir=log_dir, worker=i, cpus=cpus
            )
            for i in range(spec.workers)
        ]
        version = cls(spec, procs)
        try:
            async with _booting(procs, spec.health_timeout):
                await asyncio.gather(*(p.wait_healthy() for p in procs))
        except RuntimeError:
            await version.stop(drain_timeout=5)
            raise
        version.health_s = time.monotonic() - t0
        return version

    @classmethod
    async def _start_rehearsed(
        cls, spec: VersionSpec, shared: socket.socket, port: int, log_dir: Path,
        cpus: list[int],
    ) -> Version:
        private = listening_socket("127.0.0.1", 0, backlog=64)
        try:
            rehearsal = await VersionProcess.spawn(
                spec, private, port=port, log_dir=log_dir, private=True, cpus=cpus
            )
        finally:
            private.close()  # the server holds its own copy now
        try:
            # a rehearsal is stopped where it booted: its shutdown is as busy as its start
            async with _booting([rehearsal], spec.health_timeout, release=False):
                boot = await rehearsal.wait_healthy()
                serves_fd4 = await _answers(rehearsal, rehearsal.probe_port)
        finally:
            await rehearsal.stop(drain_timeout=5)
        proc = await VersionProcess.spawn(spec, shared, port=port, log_dir=log_dir, cpus=cpus)
        version = cls(spec, [proc])
        version.health_s = boot
        async with _booting([proc], spec.health_timeout):
            if serves_fd4:
                try:
                    await proc.wait_healthy()
                except RuntimeError as exc:
                    await version.stop(drain_timeout=5)
                    raise RuntimeError(f"started on the shared socket: {exc}") from exc
                return version
            # no way to see it accept: it boots as fast as the rehearsal did
            try:
                await asyncio.wait_for(
                    proc.proc.wait(), min(boot * 1.5 + 0.2, spec.health_timeout)
                )
            except TimeoutError:
                return version
        raise RuntimeError(
            f"passed its health check on a private socket, then exited with code "
            f"{proc.proc.returncode} when started on the shared one"
        )

    def tell(self, line: str) -> None:
        """Send a control command to every process (ignored by non-protocol servers)."""
        for proc in self.procs:
            proc.tell(line)

    def pin(self, cpus: list[int]) -> None:
        """Confine every process of the version (and what they forked) to ``cpus``; with
        all the supervisor's CPUs, release it."""
        if cpus:
            for proc in self.procs:
                pin_tree(proc.pid, cpus)

    async def stop(self, *, drain_timeout: float | None = None) -> None:
        """Stop every process (SIGTERM, drain, SIGKILL after the timeout)."""
        await asyncio.gather(*(p.stop(drain_timeout=drain_timeout) for p in self.procs))

    async def wait_any_exit(self) -> tuple[int, int]:
        """Wait until one of the processes exits; return its pid and exit code."""
        waits = {asyncio.ensure_future(p.proc.wait()): p.pid for p in self.procs}
        done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        first = next(iter(done))
        return waits[first], first.result()

    def describe(self) -> list[dict[str, object]]:
        """What ``status`` shows of each process."""
        return [p.describe() for p in self.procs]
