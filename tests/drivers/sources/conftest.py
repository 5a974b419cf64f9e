"""Fixtures of the metric-source tests: a real Prometheus scraping a small app, and a
source runner."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from pydantic import JsonValue

from releasegate.drivers.api import Sample, SourceDriver, StepContext
from releasegate.testing import make_context

PROMETHEUS_MISSING = (
    "the prometheus binary is not installed (Debian: apt-get install -y prometheus; "
    "scripts/services.sh installs it)"
)


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


@dataclass
class RunningPrometheus:
    url: str
    process: subprocess.Popen[bytes]


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPrometheus]:
    """A real Prometheus on loopback scraping a small ``/metrics`` app every second."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip(PROMETHEUS_MISSING)
    app = ThreadingHTTPServer(("127.0.0.1", 0), _Metrics)
    app.daemon_threads = True
    threading.Thread(target=app.serve_forever, args=(0.05,), daemon=True).start()
    home = tmp_path_factory.mktemp("prometheus")
    config = home / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - {{job_name: app, static_configs: [{{targets: ['127.0.0.1:{app.server_address[1]}']}}]}}\n"
    )
    port = free_port()
    log = (home / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={home / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_first_scrape(url, process, home / "prometheus.log")
        yield RunningPrometheus(url=url, process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        app.shutdown()
        app.server_close()


def _wait_for_first_scrape(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"prometheus exited:\n{log.read_text()}")
        try:
            answer = httpx.get(f"{url}/api/v1/query", params={"query": "demo_gauge"}, timeout=2).json()
            if answer["data"]["result"]:
                return
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    pytest.fail(f"prometheus did not scrape the app within 60 s:\n{log.read_text()}")
