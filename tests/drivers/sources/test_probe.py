"""The probe against a real HTTP server on loopback with injected latency and faults."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Mapping

import pytest
from pydantic import JsonValue

from releasegate.config.models import VerifyStage
from releasegate.drivers.api import Sample, load_registry
from releasegate.drivers.sources.probe import Probe, ProbeOptions
from releasegate.errors import ConfigError, DriverError
from releasegate.testing import StaticSecrets, make_context
from releasegate.verify.api import RegistrySources, StageSample, VerificationResult, run_stages
from verify.fault_server import FaultServer, fault_server

__all__ = ["fault_server"]


def verify(url: str, checks: Mapping[str, str], *, seconds: float = 2, every: float = 1,
           samples: list[StageSample] | None = None, secrets: StaticSecrets | None = None,
           **stage: JsonValue) -> VerificationResult:  # fmt: skip
    raw: dict[str, JsonValue] = {"stage": "immediate", "for": seconds, "every": every, "check": dict(checks)}
    raw.update(stage)
    # This machine is shared: 100 ms, not 10, before a request counts as sent late, so a
    # busy neighbour does not turn these verdicts into "cannot sustain the rate".
    probe = raw.get("with")
    raw["with"] = {"slip_tolerance": "100ms", **(probe if isinstance(probe, dict) else {})}
    sources = RegistrySources(load_registry(), make_context(url=url, secrets=secrets))
    keep = samples.append if samples is not None else None
    return asyncio.run(run_stages([VerifyStage.model_validate(raw)], sources=sources, baseline=None, on_sample=keep))


def sample_once(url: str, seconds: float = 1.0, **options: JsonValue) -> Sample:
    async def once() -> Sample:
        probe = Probe()
        try:
            return await probe.sample(ProbeOptions.model_validate(options), make_context(url=url), seconds=seconds)
        finally:
            await probe.close()

    return asyncio.run(once())


def test_a_service_answering_500_to_half_its_requests_fails_naming_error_rate(fault_server: FaultServer) -> None:
    fault_server.error_every = 2
    result = verify(fault_server.url, {"error_rate": "< 1%", "p95": "< 500ms"}, **{"with": {"rate": 40}})
    assert (result.verdict, result.action) == ("fail", "rollback")
    assert result.decisive is not None
    assert result.decisive.metric == "error_rate"
    assert result.decisive.value == pytest.approx(50.0, abs=5)
    assert "error_rate 5" in result.reason or "error_rate 4" in result.reason
    assert "breaks < 1% (absolute)" in result.reason


def test_a_healthy_service_passes_at_the_default_rate(fault_server: FaultServer) -> None:
    samples: list[StageSample] = []
    result = verify(fault_server.url, {"error_rate": "< 1%", "p95": "< 500ms"}, samples=samples)
    assert result.verdict == "pass"
    assert [s.values["requests"] for s in samples] == [10.0, 10.0]  # GET / at 10 requests/s
    assert {(r.method, r.path) for r in fault_server.seen} == {("GET", "/")}


def test_latency_counts_from_the_scheduled_time_so_a_queue_shows(fault_server: FaultServer) -> None:
    # The service answers one request at a time in 100 ms: 10/s, and the probe sends 20/s.
    # A closed-loop client would see 100 ms and 10 requests/s; users see the queue grow.
    fault_server.serial = True
    fault_server.delay = 0.1
    figures = sample_once(fault_server.url, 1.0, rate=20, timeout="10s")
    assert figures.values["requests"] == 20  # every scheduled request, none skipped
    assert figures.values["p99"] > 500  # the last of them waited behind the others
    assert figures.values["error_rate"] == 0


def test_a_target_that_stops_answering_is_never_a_pass(fault_server: FaultServer) -> None:
    fault_server.stalled = True
    samples: list[StageSample] = []
    probe = {"rate": 20, "timeout": "300ms"}
    result = verify(fault_server.url, {"p95": "< 500ms"}, samples=samples, **{"with": probe})
    # every request timed out after 300 ms: p95 is at least that, which may be under 500 ms
    assert result.verdict == "inconclusive"
    assert re.search(r"p95 is at least 30\d(\.\d)?ms \(requests timed out\): cannot tell whether < 500ms$", result.reason)
    assert samples[0].values["error_rate"] == 100.0
    result = verify(fault_server.url, {"p95": "< 200ms", "error_rate": "< 1%"}, **{"with": probe})
    assert result.verdict == "fail"
    assert re.search(r"p95 30\d(\.\d)?ms breaks < 200ms \(absolute\)", result.reason)
    assert "error_rate 100% breaks < 1% (absolute)" in " ".join(f.detail for f in result.stages[0].findings)


def test_a_target_killed_mid_stage_fails_with_its_errors(fault_server: FaultServer) -> None:
    async def scenario() -> VerificationResult:
        stage = VerifyStage.model_validate({"stage": "immediate", "for": 3, "every": 1,
                                            "check": {"error_rate": "< 1%"},
                                            "with": {"rate": 20, "slip_tolerance": "100ms"}})  # fmt: skip
        sources = RegistrySources(load_registry(), make_context(url=fault_server.url))
        asyncio.get_running_loop().call_later(1.2, fault_server.close_listener)
        return await run_stages([stage], sources=sources, baseline=None)

    result = asyncio.run(scenario())
    assert result.verdict == "fail"
    assert result.decisive is not None
    assert result.decisive.interval == 1
    assert result.decisive.value == pytest.approx(100, abs=25)


def test_a_probe_the_machine_cannot_keep_up_with_is_reported_as_such(fault_server: FaultServer) -> None:
    async def scenario() -> VerificationResult:
        stage = VerifyStage.model_validate({"stage": "immediate", "for": 1, "every": 1,
                                            "check": {"p95": "< 200ms"}, "with": {"rate": 100}})  # fmt: skip
        sources = RegistrySources(load_registry(), make_context(url=fault_server.url))
        # the loop the probe runs in is blocked for 400 ms, as by a starved CPU
        asyncio.get_running_loop().call_later(0.3, time.sleep, 0.4)
        return await run_stages([stage], sources=sources, baseline=None)

    result = asyncio.run(scenario())
    assert result.verdict == "inconclusive"
    assert "cannot sustain 100 requests/s, so the figures describe the load generator, not the service" in result.reason


def test_requests_rotate_with_their_methods_bodies_headers_and_expected_statuses(fault_server: FaultServer) -> None:
    fault_server.status = 201
    requests: list[JsonValue] = [
        {"path": "/api/orders", "method": "POST", "body": {"item": 7},
         "headers": {"Authorization": "Bearer ${env:TOKEN}"}, "expect": [201]},
        {"path": "/monitoring/health", "expect": [200]},
    ]  # fmt: skip
    secrets = StaticSecrets({"TOKEN": "s3cr3t-value"})
    samples: list[StageSample] = []
    result = verify(fault_server.url, {"error_rate": "< 1%"}, seconds=1, samples=samples, secrets=secrets,
                    **{"with": {"rate": 10, "requests": requests}})  # fmt: skip
    assert samples[0].values["error_rate"] == 50.0  # /monitoring/health answered 201, not 200
    posts = [r for r in fault_server.seen if r.method == "POST"]
    assert posts
    assert json.loads(posts[0].body) == {"item": 7}
    assert posts[0].headers["Authorization"] == "Bearer s3cr3t-value"
    assert posts[0].headers["Content-Type"] == "application/json"
    assert "s3cr3t" not in json.dumps(result.to_json())


def test_the_probe_is_bounded_in_rate_and_time(fault_server: FaultServer) -> None:
    sources = RegistrySources(load_registry(), make_context(url=fault_server.url))
    with pytest.raises(ConfigError) as err:
        sources("probe", {"rate": 50000})
    assert str(err.value) == "source probe: rate: Input should be less than or equal to 5000"

    async def too_long() -> None:
        probe = Probe()
        options = ProbeOptions.model_validate({"max_duration": "1s"})
        try:
            await probe.sample(options, make_context(url=fault_server.url), seconds=0.5)
            await probe.sample(options, make_context(url=fault_server.url), seconds=0.6)
        finally:
            await probe.close()

    with pytest.raises(DriverError, match=r"would run past its max_duration of 0:00:01 \(stopped\)"):
        asyncio.run(too_long())


def test_no_url_is_an_error_that_says_so() -> None:
    async def once() -> None:
        await Probe().sample(ProbeOptions(), make_context(url=None), seconds=0.1)

    with pytest.raises(DriverError, match="probe: the environment has no url and the probe was given none"):
        asyncio.run(once())


def test_a_refused_connection_is_an_error_in_the_figures(refused_url: str) -> None:
    figures = sample_once(refused_url, 0.5, rate=10)
    assert figures.values["error_rate"] == 100.0
    assert figures.missing["p95"] == "no response in the interval (5× connection refused)"


def test_a_kept_alive_connection_the_server_closed_while_idle_is_not_an_error(fault_server: FaultServer) -> None:
    fault_server.idle_close = 0.1  # every request after the first finds its connection closed
    figures = sample_once(fault_server.url, 1.5, rate=3)
    assert figures.values["requests"] == 5
    assert figures.values["error_rate"] == 0
