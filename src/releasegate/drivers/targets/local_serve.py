"""Serve one version of an ASGI or WSGI app on an inherited socket, under the local supervisor.

``python local_serve.py --fd FD [--app-dir DIR] [--wsgi] MODULE:APP``

Run as a file by the app's own interpreter, it imports nothing of releasegate: the app's
interpreter needs uvicorn (and, for ``--wsgi``, preferably a2wsgi, which uvicorn uses).

A thin wrapper around uvicorn that adds what a zero-downtime swap needs from the app
server (plain ``uvicorn --fd`` has none of it):

* ``--fd`` is a TCP socket (uvicorn's own ``--fd`` assumes a Unix socket);
* with ``RELEASEGATE_PROBE_FD`` it first serves only that private socket, so the
  supervisor can health-check the version before any user request reaches it;
* it reads one-line commands from the pipe ``RELEASEGATE_CONTROL_FD``:
  ``admit`` (start accepting on the shared socket), ``quiesce`` (stop accepting and answer
  ``Connection: close`` so clients move their keep-alive connections elsewhere),
  ``maintenance on SECONDS`` / ``maintenance off`` (503 with ``Retry-After``). The end of
  the pipe (the supervisor is gone) shuts the server down, so children never outlive it;
* SIGTERM drains: uvicorn stops, lets requests in flight finish, then exits.

Without ``RELEASEGATE_CONTROL_FD`` it admits at once, like ``uvicorn --fd``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAINTENANCE_PAGE = (
    b"<!doctype html><title>Down for maintenance</title>"
    b"<h1>Down for maintenance</h1><p>We will be back shortly.</p>\n"
)


@dataclass
class GateState:
    """What the supervisor told this process."""

    probe_port: int | None = None
    quiesced: bool = False
    maintenance: bool = False
    retry_after: int = 120


class Gate:
    """ASGI middleware: maintenance 503s and ``Connection: close`` once quiesced.

    Requests on the private probe socket bypass maintenance (the supervisor's health
    check must see the app, not the maintenance page).
    """

    def __init__(self, app: ASGIApp, state: GateState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        server = scope.get("server") or (None, None)
        on_probe = self.state.probe_port is not None and server[1] == self.state.probe_port
        closing = [(b"connection", b"close")] if self.state.quiesced else []
        if self.state.maintenance and not on_probe:
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [
                        (b"content-type", b"text/html; charset=utf-8"),
                        (b"retry-after", str(self.state.retry_after).encode()),
                        *closing,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": MAINTENANCE_PAGE})
            return
        if not closing:
            await self.app(scope, receive, send)
            return

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", []), *closing]
            await send(message)

        await self.app(scope, receive, send_closing)


class GatedServer(uvicorn.Server):
    """A uvicorn server that can start and stop accepting on a shared socket at will."""

    def __init__(self, config: uvicorn.Config, shared: socket.socket, state: GateState) -> None:
        super().__init__(config)
        self.shared = shared
        self.state = state
        self._shared_server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.linger = 0.0
        """Seconds a quiesced server waits, on SIGTERM, for its connections to close."""

    def admit_soon(self) -> None:
        """Admit once started (commands may arrive while the app still loads)."""
        task = asyncio.ensure_future(self.admit())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def admit(self) -> None:
        while not self.started:
            if self.should_exit:
                return
            await asyncio.sleep(0.01)
        if self._shared_server is not None or self.state.quiesced:
            return
        config = self.config

        def create_protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state
            )

        loop = asyncio.get_running_loop()
        self._shared_server = await loop.create_server(
            create_protocol, sock=self.shared, backlog=config.backlog
        )
        self.servers.append(self._shared_server)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Once quiesced, first let connections end by themselves, then drain as uvicorn does.

        uvicorn's shutdown closes idle keep-alive connections at once; a client that sends
        on one in that instant gets no answer. A quiesced server instead waits until each
        connection was used once more (answered with ``Connection: close``) or timed out
        idle (the keep-alive timeout, as in steady state), at most ``linger`` seconds.
        Not quiesced yet (no supervisor said so: run as a plain command), it quiesces first."""
        if not self.state.quiesced:
            self.quiesce()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.linger
        while self.server_state.connections and loop.time() < deadline:
            await asyncio.sleep(0.05)
        await super().shutdown(sockets=sockets)

    def quiesce(self) -> None:
        self.state.quiesced = True
        if self._shared_server is not None:
            # Closes this process's copy of the fd only: the socket stays open in the
            # supervisor and in the new version, which goes on accepting from its queue.
            self._shared_server.close()

    def command(self, line: str) -> None:
        words = line.split()
        if words == ["admit"]:
            self.admit_soon()
        elif words == ["quiesce"]:
            self.quiesce()
        elif words[:2] == ["maintenance", "on"]:
            self.state.maintenance = True
            if len(words) > 2:
                self.state.retry_after = int(words[2])
        elif words == ["maintenance", "off"]:
            self.state.maintenance = False


def _watch_control(server: GatedServer, fd: int) -> None:
    loop = asyncio.get_running_loop()
    os.set_blocking(fd, False)
    buffer = bytearray()

    def readable() -> None:
        try:
            chunk = os.read(fd, 4096)
        except BlockingIOError:
            return
        if not chunk:  # the supervisor is gone: stop with it
            loop.remove_reader(fd)
            server.should_exit = True
            return
        buffer.extend(chunk)
        while b"\n" in buffer:
            line, _, rest = bytes(buffer).partition(b"\n")
            buffer[:] = rest
            server.command(line.decode())

    loop.add_reader(fd, readable)


async def serve(args: argparse.Namespace) -> None:
    """Run the app until SIGTERM or the end of the control pipe."""
    shared = socket.socket(fileno=args.fd)
    probe_fd = os.environ.get("RELEASEGATE_PROBE_FD")
    control_fd = os.environ.get("RELEASEGATE_CONTROL_FD")
    probe = socket.socket(fileno=int(probe_fd)) if probe_fd else None
    state = GateState(probe_port=probe.getsockname()[1] if probe else None)
    config = uvicorn.Config(
        args.app,
        interface="wsgi" if args.wsgi else "auto",
        log_level=args.log_level,
        access_log=False,
        timeout_graceful_shutdown=args.drain_timeout,
        timeout_keep_alive=args.keep_alive,
        server_header=False,
    )
    config.load()
    config.loaded_app = Gate(config.loaded_app, state)
    server = GatedServer(config, shared, state)
    # idle connections close after the keep-alive timeout; stay within the drain timeout
    server.linger = max(0.0, min(config.timeout_keep_alive + 1.0, args.drain_timeout - 1.0))
    if control_fd:
        _watch_control(server, int(control_fd))
    if not control_fd:
        # nobody will say `admit` (run by hand, or as a `listen-fds` command): serve fd 3
        # at once, beside the probe socket if there is one
        server.admit_soon()
    await server.serve(sockets=[probe] if probe else [])


def main(argv: list[str] | None = None) -> int:
    """The command line of the wrapper."""
    parser = argparse.ArgumentParser(prog="local_serve", description=__doc__.splitlines()[0])
    parser.add_argument("app", help="the ASGI (or, with --wsgi, WSGI) app, MODULE:ATTRIBUTE")
    parser.add_argument("--wsgi", action="store_true", help="the app is a WSGI callable")
    parser.add_argument("--fd", type=int, required=True, help="the inherited listening socket")
    parser.add_argument("--app-dir", default=".", help="where to import the app from")
    parser.add_argument("--drain-timeout", type=float, default=30.0)
    parser.add_argument(
        "--keep-alive",
        type=float,
        default=15.0,
        help="seconds an idle keep-alive connection stays open (longer than clients' own "
        "idle expiry, so the client closes it, never both at once)",
    )
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    here = os.path.dirname(os.path.abspath(__file__))
    # run as a file, Python puts this directory first: its modules must not shadow the app's
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    sys.path.insert(0, os.path.abspath(args.app_dir))
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
