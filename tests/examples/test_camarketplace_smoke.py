"""The smoke flows pass on the good versions and catch 1.2.1 every time.

The flows in ``examples/camarketplace/smoke/`` (what the example config's ``smoke`` steps
run) are parsed by the real smoke driver's loader and run here by a minimal executor of
that format against each version served for real, so a broken flow shows up here, apart
from the engine.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest
from camarketplace_harness import EXAMPLE, Server

from releasegate.drivers.checks.smoke_flows import Flow, load_flows


def _flows() -> list[Flow]:
    return load_flows("smoke", EXAMPLE)


def _fill(value: object, variables: dict[str, str]) -> object:
    if isinstance(value, str):
        return re.sub(r"\{\{(\w+)\}\}", lambda m: variables[m.group(1)], value)
    if isinstance(value, dict):
        return {k: _fill(v, variables) for k, v in value.items()}
    return value


def _at(body: object, dotted: str) -> object:
    for part in dotted.split("."):
        assert isinstance(body, dict)
        body = body[part]
    return body


def _run_flow(client: httpx.Client, flow: Flow, version: str) -> str | None:
    """None when every request meets its expectations, else what failed first."""
    variables = {"version": version}
    for req in flow.requests:
        kwargs: dict[str, object] = {"headers": _fill(req.headers, variables)}
        if req.json_ is not None:
            kwargs["json"] = _fill(req.json_, variables)
        if req.files:
            kwargs["files"] = {
                field: (rel.rsplit("/", 1)[-1], (EXAMPLE / rel).read_bytes())
                for field, rel in req.files.items()
            }
        start = time.perf_counter()
        response = client.request(req.method, str(_fill(req.path, variables)), **kwargs)
        elapsed = time.perf_counter() - start
        where = f"{flow.name}: {req.title}"
        expect = req.expect
        if response.status_code != expect.status:
            return f"{where}: status {response.status_code}, expected {expect.status}"
        for dotted, wanted in expect.json_.items():
            if _at(response.json(), dotted) != _fill(wanted, variables):
                return f"{where}: {dotted} is not {wanted!r}"
        if any(text not in response.text for text in expect.body_contains):
            return f"{where}: body lacks {expect.body_contains}"
        if expect.max_latency and elapsed > expect.max_latency.total_seconds():
            return f"{where}: took {elapsed:.3f}s"
        for name, source in req.capture.items():
            variables[name] = str(_at(response.json(), source.removeprefix("json.")))
    return None


def _failures(server: Server) -> dict[str, str]:
    with server.client() as client:
        results = {flow.name: _run_flow(client, flow, server.version) for flow in _flows()}
    return {name: failure for name, failure in results.items() if failure}


def test_flows_cover_every_critical_flow_and_payment_method() -> None:
    names = {flow.name for flow in _flows()}
    assert {"user-login", "service-request", "file-upload", "email-delivery"} <= names
    assert {f"payment-{m}" for m in ("card", "upi", "netbanking", "wallet")} <= names


@pytest.mark.parametrize("version", ["1.1.5", "1.2.0"])
def test_good_versions_pass_every_flow(servers: dict[str, Server], version: str) -> None:
    assert _failures(servers[version]) == {}


def test_bad_hotfix_fails_exactly_the_upi_flow_every_time(servers: dict[str, Server]) -> None:
    for _ in range(3):
        assert _failures(servers["1.2.1"]) == {
            "payment-upi": "payment-upi: pay 499.00 INR by upi: status 502, expected 201"
        }
