"""A real Prometheus (Debian's binary) on loopback, scraping one target every second."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

PROMETHEUS_MISSING = (
    "the prometheus binary is not installed (Debian: apt-get install -y prometheus; "
    "scripts/services.sh installs it)"
)


@dataclass
class RunningPrometheus:
    url: str
    process: subprocess.Popen[bytes]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_prometheus(target: str, home: Path, *, ready_query: str) -> Iterator[RunningPrometheus]:
    """Prometheus scraping ``target`` (``host:port``), yielded once ``ready_query`` has a
    result; skips the test when the binary is missing, stops it afterwards."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip(PROMETHEUS_MISSING)
    config = home / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"scrape_configs:\n  - {{job_name: app, static_configs: [{{targets: ['{target}']}}]}}\n"
    )
    port = _free_port()
    log_path = home / "prometheus.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={home / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_series(url, ready_query, process=process, log=log_path)
        yield RunningPrometheus(url=url, process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_for_series(
    url: str, query: str, *, process: subprocess.Popen[bytes] | None = None,
    log: Path | None = None, timeout: float = 90,
) -> None:
    """Wait until ``query`` returns a series (Prometheus has scraped what it names)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            pytest.fail(f"prometheus exited:\n{log.read_text() if log else ''}")
        try:
            answer = httpx.get(f"{url}/api/v1/query", params={"query": query}, timeout=2).json()
            if answer["data"]["result"]:
                return
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    pytest.fail(f"prometheus had no series for {query!r} within {timeout:g} s")
