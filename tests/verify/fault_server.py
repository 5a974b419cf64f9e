"""A real HTTP/1.1 server on loopback whose faults a test sets while it runs: injected
latency, a share of 500s, answering nothing at all, or refusing connections.

It runs its own asyncio loop in a thread, so the probe under test (in the test's loop)
measures it over real sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FaultServer:
    """Set ``delay`` (seconds, or a function giving them), ``error_every`` (every n-th
    request answers 500; 2 = half), ``stalled`` (read requests, answer nothing) and
    ``status`` (the normal status) at any time; ``close_listener()`` kills it."""

    url: str = ""
    delay: float | Callable[[], float] = 0.0
    error_every: int = 0
    stalled: bool = False
    dead: bool = False
    idle_close: float | None = None
    """Close a kept-alive connection idle this long (as uvicorn's keep-alive timeout)."""
    serial: bool = False
    """Answer one request at a time (a service at its capacity: requests queue)."""
    status: int = 200
    seen: list[Seen] = field(default_factory=list)
    count: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _server: asyncio.Server | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def _delay(self) -> float:
        return self.delay() if callable(self.delay) else self.delay

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.idle_close)
                except TimeoutError:
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
                length = int(headers.get("Content-Length", "0"))
                body = await reader.readexactly(length) if length else b""
                if len(self.seen) < 1000:
                    self.seen.append(Seen(method, path, headers, body))
                self.count += 1
                n = self.count
                if self.dead:
                    return
                if self.stalled:
                    await asyncio.sleep(3600)
                delay = self._delay()
                if self.serial:
                    async with self._lock:
                        await asyncio.sleep(delay)
                elif delay > 0:
                    await asyncio.sleep(delay)
                status = 500 if self.error_every and n % self.error_every == 0 else self.status
                payload = json.dumps({"n": n}).encode()
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    def close_listener(self) -> None:
        """Stop accepting connections and drop the open ones (as a crashed service)."""
        assert self._loop is not None
        assert self._server is not None
        server = self._server
        self.dead = True

        def shut() -> None:
            server.close()
            with contextlib.suppress(AttributeError):
                server.close_clients()  # Python 3.13+

        self._loop.call_soon_threadsafe(shut)


def lognormal(mu: float, sigma: float, seed: int = 7) -> Callable[[], float]:
    """Delays drawn from a lognormal distribution (seconds)."""
    rng = random.Random(seed)
    return lambda: rng.lognormvariate(mu, sigma)


@contextlib.contextmanager
def running_fault_server() -> Iterator[FaultServer]:
    """A :class:`FaultServer` on a free loopback port, for the duration of the block."""
    app = FaultServer()
    ready = threading.Event()
    stop: list[Callable[[], None]] = []

    def serve() -> None:
        loop = asyncio.new_event_loop()
        app._loop = loop

        async def main() -> None:
            app._server = await asyncio.start_server(app._handle, "127.0.0.1", 0)
            port = app._server.sockets[0].getsockname()[1]
            app.url = f"http://127.0.0.1:{port}"
            done = asyncio.Event()
            stop.append(lambda: loop.call_soon_threadsafe(done.set))
            ready.set()
            await done.wait()
            app._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        loop.run_until_complete(main())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10), "the fault server did not start"
    try:
        yield app
    finally:
        stop[0]()
        thread.join(timeout=10)


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    """A real HTTP server with injectable latency and errors."""
    with running_fault_server() as app:
        yield app
