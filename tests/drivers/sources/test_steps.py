"""The steps built on the sources: ``load-test`` and ``metrics-check``."""

from __future__ import annotations

import json
from pathlib import Path

from releasegate.drivers.api import Release
from releasegate.drivers.sources.load_test import LoadTest
from releasegate.drivers.sources.metrics_check import MetricsCheck
from releasegate.testing import run_driver
from verify.fault_server import FaultServer, fault_server

__all__ = ["fault_server"]


def _release(version: str, previous: str | None = None) -> Release:
    return Release(environment="staging", version=version, kind="major", previous_version=previous)


def test_load_test_passes_and_keeps_its_figures_for_the_next_release(fault_server: FaultServer, tmp_path: Path) -> None:
    fault_server.delay = 0.02
    options = {"rate": 40, "duration": "1s", "slip_tolerance": "100ms", "check": {"error_rate": "< 1%", "p95": "< 500ms"}}
    result = run_driver(LoadTest(), options, url=fault_server.url, state_dir=tmp_path, release=_release("1.2.0"))
    assert result.ok, result.summary
    assert result.summary.startswith("requests 40, error_rate 0, p95 ")
    kept = json.loads((tmp_path / "load-test" / "staging.json").read_text())
    assert [(r["version"], r["ok"], r["values"]["requests"]) for r in kept] == [("1.2.0", True, 40.0)]


def test_load_test_compares_with_the_previous_release(fault_server: FaultServer, tmp_path: Path) -> None:
    fault_server.delay = 0.02
    options = {"rate": 40, "duration": "1s", "slip_tolerance": "100ms", "min_samples": 20, "check": {"p50": "< 2x baseline"}}
    first = run_driver(LoadTest(), options, url=fault_server.url, state_dir=tmp_path, release=_release("1.2.0"))
    assert first.ok
    assert "p50 < 2x baseline skipped: no baseline" in first.summary
    fault_server.delay = 0.2  # the new release is ten times slower
    second = run_driver(LoadTest(), options, url=fault_server.url, state_dir=tmp_path, release=_release("1.3.0", "1.2.0"))
    assert not second.ok
    assert "breaks < 2x baseline: threshold" in second.summary
    assert second.summary.endswith("the p50 of load test of 1.2.0")


def test_load_test_fails_naming_the_metric(fault_server: FaultServer, tmp_path: Path) -> None:
    fault_server.error_every = 2
    options = {"rate": 40, "duration": "1s", "slip_tolerance": "100ms"}
    result = run_driver(LoadTest(), options, url=fault_server.url, state_dir=tmp_path)
    assert not result.ok
    assert "error_rate 50% breaks < 1% (absolute)" in result.summary


def test_metrics_check_reads_real_servers_once(pg_url: str) -> None:
    options = {
        "sources": {"system": {}, "postgres": {"dsn": pg_url}, "redis": {"url": "redis://127.0.0.1:6379/0"}},
        "check": {"host_memory": "< 100%", "pg_connections_pct": "< 100%", "redis_memory_pct": "< 100%"},
        "seconds": "300ms",
    }
    result = run_driver(MetricsCheck(), options)
    assert result.ok, result.summary
    assert set(result.evidence["values"]) == {"host_memory", "pg_connections_pct", "redis_memory_pct"}  # type: ignore[arg-type]
    failing = {**options, "check": {"host_memory": "< 0.001%"}, "sources": {"system": {}}}
    result = run_driver(MetricsCheck(), failing)
    assert not result.ok
    assert "host_memory" in result.summary
    assert "breaks < 0.001% (absolute)" in result.summary


def test_metrics_check_refuses_relative_conditions() -> None:
    result = run_driver(MetricsCheck(), {"sources": {"system": {}}, "check": {"cpu": "< 2x baseline"}})
    assert not result.ok
    assert result.summary == "metrics-check: cpu: a gate checks absolute conditions only"
