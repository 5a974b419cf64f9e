"""schemathesis against ``/openapi.json`` on a real server: whatever a client sends, the
server never answers 5xx, and what it answers matches the schema it publishes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from releasegate.service import tokens
from releasegate.service.workspace import Workspace
from releasegate.web import create_app

from .conftest import CONFIG, serve

# what runs commands with fuzzed versions is left out: a deployment's own tests cover it
SKIPPED = ("/api/v1/deployments", "/api/v1/rollbacks")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    root = tmp_path_factory.mktemp("schema")
    (root / "releasegate.yaml").write_text(CONFIG.split("confirmations:")[0])
    made: list[Workspace] = []

    def factory() -> Workspace:
        ws = Workspace(root / "releasegate.yaml")
        made.append(ws)
        return ws

    ws = factory()
    token = tokens.create_token(ws, ws.actor(requested="root", env_user=None), "fuzz", user="root").secret
    for url in serve(create_app(factory)):
        yield url, token
    for w in made:
        w.close()


@pytest.fixture(scope="module")
def api_schema(served: tuple[str, str]) -> schemathesis.schemas.BaseSchema:
    url, _ = served
    return schemathesis.openapi.from_url(f"{url}/openapi.json")


def test_no_request_gets_a_5xx_and_answers_match_the_schema(  # type: ignore[no-untyped-def]
    api_schema, served: tuple[str, str]
) -> None:
    # schemathesis's pytest plugin does not run under this pytest: hypothesis directly,
    # over each operation's strategy, with the same checks
    url, token = served
    tried = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() == "POST" and operation.path in SKIPPED:
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def fuzz(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        fuzz()
        tried += 1
    assert tried >= 20


def test_the_schema_is_served(served: tuple[str, str]) -> None:
    import httpx

    got = httpx.get(f"{served[0]}/openapi.json", timeout=60).json()
    assert got["info"]["title"] == "releasegate"
    assert "/api/v1/approvals" in got["paths"]
    assert Path(__file__).parents[2].joinpath("docs", "api.md").exists()
