"""Fixtures of the metric-source tests: a real Prometheus scraping a small app, and a
source runner."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import JsonValue
from tests.support.prometheus import PROMETHEUS_MISSING, RunningPrometheus, running_prometheus

from releasegate.drivers.api import Sample, SourceDriver, StepContext
from releasegate.testing import make_context

__all__ = ["PROMETHEUS_MISSING", "RunningPrometheus"]


def read_source(driver: SourceDriver, options: dict[str, JsonValue], *, seconds: float = 0.2,
                ctx: StepContext | None = None, times: int = 1) -> list[Sample]:  # fmt: skip
    """``times`` samples of ``driver`` with ``options`` (validated by its Options)."""

    async def go() -> list[Sample]:
        parsed = driver.Options.model_validate(options)
        found = [await driver.sample(parsed, ctx or make_context(), seconds=seconds) for _ in range(times)]
        close = getattr(driver, "close", None)
        if callable(close):
            await close()
        return found

    return asyncio.run(go())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


METRICS_TEXT = """\
# HELP demo_gauge A gauge that does not move.
# TYPE demo_gauge gauge
demo_gauge 42
# HELP demo_latency_seconds The p95 latency the app measured.
# TYPE demo_latency_seconds gauge
demo_latency_seconds 0.125
# HELP demo_errors_ratio Share of requests that failed.
# TYPE demo_errors_ratio gauge
demo_errors_ratio 0.02
# HELP demo_shards Items per shard.
# TYPE demo_shards gauge
demo_shards{shard="a"} 3
demo_shards{shard="b"} 9
"""


class _Metrics(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = METRICS_TEXT.encode()
        self.send_response(200 if self.path == "/metrics" else 404)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPrometheus]:
    """A real Prometheus on loopback scraping a small ``/metrics`` app every second."""
    app = ThreadingHTTPServer(("127.0.0.1", 0), _Metrics)
    app.daemon_threads = True
    threading.Thread(target=app.serve_forever, args=(0.05,), daemon=True).start()
    try:
        with running_prometheus(
            f"127.0.0.1:{app.server_address[1]}", tmp_path_factory.mktemp("prometheus"),
            ready_query="demo_gauge",
        ) as running:
            yield running
    finally:
        app.shutdown()
        app.server_close()
