"""Local HTTP receivers: a generic JSON webhook and a Mattermost incoming webhook."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    """What arrived, and how to answer: ``fail_first`` requests get 500, ``hold`` (when
    set) keeps each request waiting until it is released."""

    port: int = 0
    token: str = "mmtoken0123456789"
    fail_first: int = 0
    hold: threading.Event | None = None
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    requests: int = 0

    def wait_for(self, count: int, timeout: float = 20.0) -> list[tuple[str, dict[str, Any]]]:
        """Wait until ``count`` messages were accepted (fails the test after ``timeout``)."""
        with self.arrived:
            ok = self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
        assert ok, f"{len(self.received)} of {count} messages arrived"
        return list(self.received)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with receiver.arrived:
                receiver.requests += 1
                failing = receiver.requests <= receiver.fail_first
            if receiver.hold is not None:
                receiver.hold.wait(30)
            if failing:
                self._answer(500, b"try later")
                return
            if self.path.startswith("/hooks/") and self.path != f"/hooks/{receiver.token}":
                self._answer(404, b"no such hook")
                return
            with receiver.arrived:
                receiver.received.append((self.path, json.loads(body)))
                receiver.arrived.notify_all()
            self._answer(200, b"ok")

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def serving(receiver: Receiver) -> Iterator[Receiver]:
    """Run ``receiver`` on 127.0.0.1 (a free port) for the duration of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        if receiver.hold is not None:
            receiver.hold.set()
        server.shutdown()
        server.server_close()
        thread.join()
