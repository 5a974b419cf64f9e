"""The local target's supervisor daemon: holds the listening socket and swaps versions.

``python -m releasegate.drivers.targets.local_supervisor --state-dir DIR --host H --port P``
(started by :func:`releasegate.drivers.targets.local_control.ensure_supervisor`, or with
``--foreground`` by systemd: ``releasegate target systemd-unit``).

It binds the socket once (TCP_NODELAY on), double-forks into the background, writes
``supervisor.pid`` and ``supervisor.log`` in the state dir and answers JSON-line requests on
the Unix socket ``control.sock`` there: ``swap`` (also the first start), ``status``,
``maintenance``, ``stop``. A swap starts the new version beside the old one, health-checks it
on its private probe socket, admits it to the shared socket, quiesces the old one for
``quiesce`` seconds, then SIGTERMs it and waits for it to drain. SIGTERM to the supervisor
stops every child; if the supervisor is killed outright its children see their control pipe
close and stop by themselves. Under systemd it takes the listening socket a ``.socket``
unit passes (``LISTEN_FDS``) and reports ``READY=1`` on ``NOTIFY_SOCKET`` once it answers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from releasegate.drivers.targets.local_cpus import allowed, boot_set
from releasegate.drivers.targets.local_process import VersionSpec, listening_socket
from releasegate.drivers.targets.local_version import Version

log = logging.getLogger("releasegate.local")


class Supervisor:
    """The daemon's state: the shared socket, the live process and the control server."""

    def __init__(self, state_dir: Path, sock: socket.socket) -> None:
        self.state_dir = state_dir
        self.sock = sock
        self.live: Version | None = None
        self.others: list[Version] = []
        self.started_at = time.time()
        self.maintenance = False
        self.retry_after = 120
        self.swaps = 0
        self.done = asyncio.Event()
        self.finished = asyncio.Event()
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    def _background(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def address(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def status(self) -> dict[str, Any]:
        live = self.live
        return {
            "ok": True,
            "pid": os.getpid(),
            "address": self.address,
            "version": live.spec.version if live else None,
            "started_at": self.started_at,
            "uptime_s": round(time.time() - self.started_at, 3),
            "maintenance": self.maintenance,
            "swaps": self.swaps,
            "processes": [d for v in ([live] if live else []) + self.others for d in v.describe()],
        }

    async def swap(self, spec: VersionSpec) -> dict[str, Any]:
        """Start ``spec``, prove it healthy, admit it, then quiesce and drain the old one."""
        async with self._lock:
            t0 = time.monotonic()
            log.info("starting %s, checking %s", spec.version, spec.health_path)
            try:
                new = await Version.start(spec, self.sock, self.state_dir / "logs")
            except RuntimeError as exc:
                serving = self.live.spec.version if self.live else "nothing"
                message = (
                    f"version {spec.version} failed its health check and was not "
                    f"swapped in ({serving} keeps serving): {exc}"
                )
                log.error("%s", message)
                return {"ok": False, "error": message}
            healthy = new.health_s
            if self.maintenance:
                new.tell(f"maintenance on {self.retry_after}")
            new.tell("admit")
            log.info("%s healthy after %.2fs, admitted", spec.version, healthy)
            new.state = "live"
            old, self.live = self.live, new
            self.swaps += 1
            previous = None
            if old is not None:
                previous = old.spec.version
                old.state = "quiescing"
                self.others.append(old)
                old.tell("quiesce")  # a server without the protocol simply goes on accepting
                await asyncio.sleep(spec.quiesce)
                old.pin(boot_set(spec.boot_cpus))  # it only drains from now on (local_cpus)
                await old.stop()
                self.others.remove(old)
            # once more, now that it has been serving a while: a worker forked from a pinned
            # master while the version was released can miss that release (local_cpus)
            new.pin(allowed())
            self._background(self._settle(new))
            self._background(self._watch(new))
            log.info("%s is live (was %s)", spec.version, previous)
            return {
                "ok": True,
                "version": spec.version,
                "previous": previous,
                "pid": new.pid,
                "health_s": round(healthy, 3),
                "swap_s": round(time.monotonic() - t0, 3),
            }

    async def _settle(self, version: Version) -> None:
        """Release the version's CPUs a last time, when any fork of its boot has ended."""
        await asyncio.sleep(2.0)
        if not self.done.is_set():
            version.pin(allowed())

    async def _watch(self, proc: Version) -> None:
        pid, code = await proc.wait_any_exit()
        if self.live is proc and not self.done.is_set():
            log.error(
                "live version %s (pid %d) exited with code %s; restarting it",
                proc.spec.version,
                pid,
                code,
            )
            # its other workers go on serving until the restarted version replaces them
            await asyncio.sleep(1.0)
            if not self.done.is_set():
                result = await self.swap(proc.spec)
                if not result["ok"]:
                    log.error("restart failed: %s", result["error"])

    def set_maintenance(self, on: bool, retry_after: int) -> dict[str, Any]:
        self.maintenance, self.retry_after = on, retry_after
        if self.live:
            self.live.tell(f"maintenance on {retry_after}" if on else "maintenance off")
        log.info("maintenance %s", "on" if on else "off")
        return self.status()

    async def shutdown(self) -> None:
        """Stop every child (draining), then let the daemon exit."""
        if self.done.is_set():
            return
        self.done.set()
        procs = ([self.live] if self.live else []) + self.others
        await asyncio.gather(*(p.stop() for p in procs))
        self.live = None
        log.info("stopped")
        self.finished.set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request: dict[str, Any] = {}
        try:
            request = json.loads(await reader.readline())
            reply = await self._dispatch(request)
        except (ValueError, KeyError, TypeError) as exc:
            reply = {"ok": False, "error": f"bad request: {exc}"}
        except RuntimeError as exc:
            reply = {"ok": False, "error": str(exc)}
        writer.write(json.dumps(reply).encode() + b"\n")
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()
        if request.get("cmd") == "stop":
            await self.shutdown()

    async def _dispatch(self, request: dict[str, Any]) -> dict[str, Any]:
        cmd = request["cmd"]
        if cmd == "status":
            return self.status()
        if cmd == "swap":
            spec = VersionSpec(
                version=request["version"],
                directory=Path(request["directory"]),
                command=tuple(request["command"]),
                env=dict(request.get("env", {})),
                protocol=bool(request.get("protocol", True)),
                workers=int(request.get("workers", 1)),
                python=request.get("python"),
                health_path=request["health_path"],
                health_timeout=request["health_timeout"],
                quiesce=request["quiesce"],
                drain_timeout=request["drain_timeout"],
                boot_cpus=_count(request.get("boot_cpus")),
            )
            return await self.swap(spec)
        if cmd == "maintenance":
            return self.set_maintenance(bool(request["on"]), int(request.get("retry_after", 120)))
        if cmd == "stop":
            return {"ok": True, "stopping": self.live.spec.version if self.live else None}
        raise ValueError(f"unknown command {cmd!r}")


def _count(value: object) -> int | None:
    return None if value is None else int(str(value))


async def _run(state_dir: Path, sock: socket.socket, ready: int | None) -> None:
    supervisor = Supervisor(state_dir, sock)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: supervisor._background(supervisor.shutdown()))
    control = state_dir / "control.sock"
    control.unlink(missing_ok=True)
    server = await asyncio.start_unix_server(supervisor.handle, path="control.sock")
    # only this user may talk to the supervisor: a swap request names a command to run
    os.chmod("control.sock", 0o600)
    (state_dir / "supervisor.pid").write_text(f"{os.getpid()}\n")
    log.info("supervisor %d listening on %s", os.getpid(), supervisor.address)
    if ready is not None:
        os.write(ready, f"ready {os.getpid()}\n".encode())
        os.close(ready)
    notify_systemd(f"READY=1\nMAINPID={os.getpid()}\nSTATUS=listening on {supervisor.address}")
    await supervisor.done.wait()
    notify_systemd("STOPPING=1")
    await supervisor.finished.wait()
    server.close()
    control.unlink(missing_ok=True)
    (state_dir / "supervisor.pid").unlink(missing_ok=True)


def activated_socket() -> socket.socket | None:
    """The listening socket systemd passed (socket activation: ``LISTEN_FDS``, fd 3), or None.

    Under a ``.socket`` unit the socket outlives the supervisor: while it restarts (a
    reboot's start, ``systemctl restart``, an upgrade) connections wait in its queue
    instead of being refused. ``LISTEN_*`` is removed so no child takes it for its own."""
    fds = os.environ.pop("LISTEN_FDS", None)
    pid = os.environ.pop("LISTEN_PID", None)
    os.environ.pop("LISTEN_FDNAMES", None)
    if not fds or pid != str(os.getpid()) or int(fds) < 1:
        return None
    sock = socket.socket(fileno=3)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    os.set_inheritable(3, False)
    return sock


def notify_systemd(message: str) -> None:
    """Tell systemd (``Type=notify``) how the daemon is, when it started us; else nothing."""
    where = os.environ.get("NOTIFY_SOCKET")
    if not where:
        return
    address = "\0" + where[1:] if where.startswith("@") else where
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as out:
        out.sendto(message.encode(), address)


def main(argv: list[str] | None = None) -> int:
    """Bind, daemonize, serve until stopped. Reports ``ready PID`` or ``error ...`` on --ready-fd."""
    parser = argparse.ArgumentParser(prog="local_supervisor")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ready-fd", type=int)
    parser.add_argument("--foreground", action="store_true")
    args = parser.parse_args(argv)
    state_dir = args.state_dir.resolve()
    ready = args.ready_fd

    def fail(message: str) -> int:
        if ready is not None:
            os.write(ready, f"error {message}\n".encode())
        print(message, file=sys.stderr)
        return 1

    activated = activated_socket()  # before a fork changes our pid
    if not args.foreground and os.fork() > 0:
        os._exit(0)  # the intermediate exits: the daemon is re-parented and never a zombie
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chdir(state_dir)
    lock = open(state_dir / "supervisor.lock", "w")  # noqa: SIM115 - held for the lifetime
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return fail(f"another supervisor already runs for {state_dir}")
    try:
        sock = activated or listening_socket(args.host, args.port)
    except OSError as exc:
        return fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s supervisor %(levelname)s %(message)s",
    )
    asyncio.run(_run(state_dir, sock, ready))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
