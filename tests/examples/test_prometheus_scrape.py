"""The `prometheus` metric source against a real Prometheus scraping the example service's
own ``/metrics``: a verification stage reads the example's request rate and latency
through PromQL, as a team's config would."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from camarketplace_harness import Server
from tests.support.prometheus import running_prometheus, wait_for_series

from releasegate.config.models import VerifyStage
from releasegate.drivers.api import load_registry
from releasegate.testing import make_context
from releasegate.verify.api import RegistrySources, run_stages


@pytest.fixture(scope="module")
def prometheus_of_example(
    servers: dict[str, Server], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with running_prometheus(
        servers["1.2.0"].url.removeprefix("http://"), tmp_path_factory.mktemp("prometheus-example"),
        ready_query='camarketplace_build_info{version="1.2.0"}',
    ) as running:
        yield running.url


def test_a_stage_reads_the_example_through_prometheus(
    servers: dict[str, Server], prometheus_of_example: str
) -> None:
    with servers["1.2.0"].client() as client:  # traffic for the counters to count
        for _ in range(30):
            client.get("/monitoring/health")
    wait_for_series(prometheus_of_example, "camarketplace_http_requests_total")
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
