"""The `prometheus` metric source against a real Prometheus scraping the example service's
own ``/metrics``: a verification stage reads the example's request rate and latency
through PromQL, as a team's config would."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from camarketplace_harness import Server, free_port

from releasegate.config.models import VerifyStage
from releasegate.drivers.api import load_registry
from releasegate.testing import make_context
from releasegate.verify.api import RegistrySources, run_stages


@pytest.fixture(scope="module")
def prometheus_of_example(
    servers: dict[str, Server], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("the Debian package prometheus is not installed (scripts/services.sh installs it)")
    target = servers["1.2.0"].url.removeprefix("http://")
    home = tmp_path_factory.mktemp("prometheus-example")
    (home / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"scrape_configs:\n  - {{job_name: camarketplace, static_configs: [{{targets: ['{target}']}}]}}\n"
    )
    port = free_port()
    log = (home / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [binary, f"--config.file={home / 'prometheus.yml'}", f"--storage.tsdb.path={home / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url, 'camarketplace_build_info{version="1.2.0"}', process, home / "prometheus.log")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_for(
    url: str, query: str, process: subprocess.Popen[bytes] | None = None, log: Path | None = None
) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process is not None and log is not None and process.poll() is not None:
            pytest.fail(f"prometheus exited:\n{log.read_text()}")
        try:
            answer = httpx.get(f"{url}/api/v1/query", params={"query": query}, timeout=2).json()
            if answer["data"]["result"]:
                return
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    pytest.fail(f"prometheus did not scrape the example within 90 s ({query})")


def test_a_stage_reads_the_example_through_prometheus(
    servers: dict[str, Server], prometheus_of_example: str
) -> None:
    with servers["1.2.0"].client() as client:  # traffic for the counters to count
        for _ in range(30):
            client.get("/monitoring/health")
    _wait_for(prometheus_of_example, "camarketplace_http_requests_total")
    stage = VerifyStage.model_validate({
        "stage": "immediate", "for": 1.0, "every": 0.5, "source": "prometheus",
        "with": {"url": prometheus_of_example, "queries": {
            "requests": {"query": "sum(camarketplace_http_requests_total)"},
            "built": {"query": 'camarketplace_build_info{version="1.2.0"}'},
        }},
        "check": {"requests": "> 0", "built": ">= 1"},
    })  # fmt: skip
    result = asyncio.run(run_stages(
        [stage], sources=RegistrySources(load_registry(), make_context()), baseline=None
    ))
    assert result.action == "continue", result.reason
    assert result.verdict == "pass", result.reason
