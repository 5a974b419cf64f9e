"""The prometheus source against a real Prometheus, one that is down, and one that lies."""

from __future__ import annotations

import asyncio

import pytest
from httpapp import AppServer

from releasegate.config.models import VerifyStage
from releasegate.drivers.api import load_registry
from releasegate.drivers.sources.prometheus import Prometheus
from releasegate.errors import DriverError
from releasegate.testing import make_context
from releasegate.verify.api import RegistrySources, VerificationResult, run_stages
from sources.conftest import RunningPrometheus, read_source


def test_instant_queries_report_one_metric_each_in_their_units(prometheus: RunningPrometheus) -> None:
    queries = {
        "items": "demo_gauge",
        "p95": {"query": "demo_latency_seconds", "unit": "s"},
        "errors": {"query": "demo_errors_ratio", "unit": "ratio"},
        "biggest_shard": "demo_shards",
        "all_shards": {"query": "demo_shards", "reduce": "sum"},
    }
    [sample] = read_source(Prometheus(), {"url": prometheus.url, "queries": queries})
    assert sample.values == pytest.approx(
        {"items": 42.0, "p95": 125.0, "errors": 2.0, "biggest_shard": 9.0, "all_shards": 12.0}
    )
    assert Prometheus().metrics(Prometheus.Options.model_validate({"url": "x", "queries": queries})) == {
        "items": "", "p95": "ms", "errors": "%", "biggest_shard": "", "all_shards": "",
    }  # fmt: skip


def test_range_queries_cover_the_interval(prometheus: RunningPrometheus) -> None:
    queries = {"most": {"query": "max_over_time(demo_gauge[{interval}])", "range": True, "step": "1s", "reduce": "max"}}
    [sample] = read_source(Prometheus(), {"url": prometheus.url, "queries": queries}, seconds=1.5)
    assert sample.values == {"most": 42.0}


def test_no_series_and_nan_are_no_data_with_the_reason(prometheus: RunningPrometheus) -> None:
    queries = {"absent": "no_such_metric_anywhere", "nan": "0/0"}
    [sample] = read_source(Prometheus(), {"url": prometheus.url, "queries": queries})
    assert sample.values == {}
    assert sample.missing == {
        "absent": "no series for 'no_such_metric_anywhere'",
        "nan": "'0/0' returned only NaN/Inf",
    }


def _verify(url: str, queries: dict[str, object], checks: dict[str, str], **extra: object) -> VerificationResult:
    stage = VerifyStage.model_validate({
        "stage": "immediate", "for": 0.6, "every": 0.2, "check": checks, "source": "prometheus",
        "with": {"url": url, "queries": queries}, **extra,
    })  # fmt: skip
    sources = RegistrySources(load_registry(), make_context())
    return asyncio.run(run_stages([stage], sources=sources, baseline=None))


def test_a_stage_on_a_query_without_series_is_inconclusive_not_a_pass(prometheus: RunningPrometheus) -> None:
    result = _verify(prometheus.url, {"errors": "no_such_metric_anywhere"}, {"errors": "< 1"})
    assert result.verdict == "inconclusive"
    assert result.reason.endswith("errors: no data (no series for 'no_such_metric_anywhere'); no_data: inconclusive")


def test_a_stage_fails_on_what_prometheus_reports(prometheus: RunningPrometheus) -> None:
    result = _verify(prometheus.url, {"error_rate": {"query": "demo_errors_ratio", "unit": "ratio"}}, {"error_rate": "< 1%"})
    assert result.verdict == "fail"
    assert result.reason.endswith("error_rate 2% breaks < 1% (absolute)")


def test_a_prometheus_that_is_down_is_unreadable_then_inconclusive(refused_url: str) -> None:
    with pytest.raises(DriverError, match=rf"^cannot reach prometheus at {refused_url}: ConnectError"):
        read_source(Prometheus(), {"url": refused_url, "queries": {"x": "up"}}, seconds=0)
    result = _verify(refused_url, {"x": "up"}, {"x": "> 0"}, error_limit=1)
    assert result.verdict == "inconclusive"
    assert "prometheus unreadable for 2 consecutive intervals (error_limit 1)" in result.reason


def test_a_prometheus_answering_garbage_is_unreadable_with_the_reason(app_server: AppServer) -> None:
    app_server.route("GET", "/api/v1/query", 200, "<html>proxy login</html>")
    with pytest.raises(DriverError, match=r"answered garbage \(HTTP 200, not JSON\)"):
        read_source(Prometheus(), {"url": app_server.url, "queries": {"x": "up"}}, seconds=0)
    app_server.route("GET", "/api/v1/query", 200, {"status": "success", "data": {"resultType": "vector", "result": [{"value": "x"}]}})
    with pytest.raises(DriverError, match="answered garbage"):
        read_source(Prometheus(), {"url": app_server.url, "queries": {"x": "up"}}, seconds=0)


def test_a_bad_query_is_refused_with_prometheus_own_words(prometheus: RunningPrometheus) -> None:
    with pytest.raises(DriverError, match=r"refused 'rate\(\(' \(HTTP 400\): .*parse error"):
        read_source(Prometheus(), {"url": prometheus.url, "queries": {"x": "rate(("}}, seconds=0)
