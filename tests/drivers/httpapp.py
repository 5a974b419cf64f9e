"""A real HTTP server on 127.0.0.1 with scriptable routes, for the driver tests."""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

RESET = "__reset__"
"""A route body that makes the server reset the connection."""

Handler = Callable[["Request"], tuple[int, object]]


@dataclass
class Request:
    """What a route handler sees."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body or b"null")


@dataclass
class AppServer:
    """A live server: ``routes[(method, path)]`` answers with (status, body); a dict or list
    body is sent as JSON. ``log`` lists the requests it received."""

    url: str
    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    log: list[Request] = field(default_factory=list)

    def route(self, method: str, path: str, status: int = 200, body: object = "") -> None:
        self.routes[(method, path)] = lambda _req: (status, body)


def _make_handler(app: AppServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            req = Request(self.command, self.path, dict(self.headers), self.rfile.read(length))
            app.log.append(req)
            handler = app.routes.get((self.command, self.path.split("?")[0]))
            status, body = handler(req) if handler else (404, "not found")
            if body == RESET:
                # SO_LINGER 0: close() sends RST, as a crashing server would.
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
                self.close_connection = True
                return
            if isinstance(body, dict | list):
                data = json.dumps(body).encode()
                kind = "application/json"
            else:
                data = str(body).encode()
                kind = "text/plain"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def finish(self) -> None:
            with contextlib.suppress(OSError):
                super().finish()

    return _Handler


@pytest.fixture
def app_server() -> Iterator[AppServer]:
    """A real HTTP server on 127.0.0.1 (a free port) in a thread."""
    app = AppServer(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(app))
    server.daemon_threads = True
    app.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield app
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def slow(seconds: float, status: int = 200, body: object = "ok") -> Handler:
    """A handler that answers after ``seconds``."""

    def handler(_req: Request) -> tuple[int, object]:
        time.sleep(seconds)
        return status, body

    return handler


@pytest.fixture
def refused_url() -> str:
    """A URL on which nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
