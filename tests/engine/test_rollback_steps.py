"""The environment's ``rollback.steps`` see the version being restored: a correct rollback
is recorded as succeeded, with ``version-check`` expecting the restored version."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from releasegate.drivers.checks.command import CommandStep
from releasegate.drivers.checks.version_check import VersionCheck

from .conftest import EngineFactory, make_config

DUMP_ENV = (
    "import json, os, sys; json.dump({k: v for k, v in os.environ.items() "
    "if k.startswith('RELEASEGATE_')}, open(sys.argv[1], 'w'))"
)


@pytest.fixture
def service(live_file: Path) -> Iterator[str]:
    """A real HTTP server reporting the version the fake target made live."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"version": live_file.read_text().strip()}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _config(tmp_path: Path, url: str, *, fail_deploy: bool = False) -> object:
    deploy: list[dict[str, object]] = [{"id": "release", "uses": "target"}]
    if fail_deploy:
        deploy.append({
            "id": "health", "uses": "fake", "on_failure": "rollback",
            "with": {"log": str(tmp_path / "steps.log"), "fail_times": -1},
        })
    return make_config(
        tmp_path,
        url=url,
        deploy=deploy,
        rollback={"steps": [
            {"id": "env", "uses": "command",
             "with": {"run": [sys.executable, "-c", DUMP_ENV, str(tmp_path / "env.json")]}},
            {"id": "version", "uses": "version-check",
             "with": {"path": "/monitoring/version", "deadline": "5s", "interval": "100ms"}},
        ]},
    )


def _engine(make_engine: EngineFactory, config: object):  # type: ignore[no-untyped-def]
    engine, _ = make_engine(config)
    engine.registry.register("step", CommandStep)
    engine.registry.register("step", VersionCheck)
    return engine


def test_a_manual_rollback_checks_the_restored_version_and_succeeds(
    tmp_path: Path, make_engine: EngineFactory, service: str, live_file: Path
) -> None:
    engine = _engine(make_engine, _config(tmp_path, service))
    for version in ("1.0.0", "1.1.0"):
        outcome = asyncio.run(engine.deploy(engine.plan("staging", version, "normal")))
        assert outcome.status == "succeeded"
    outcome = asyncio.run(engine.rollback("staging"))
    assert outcome.status == "succeeded", outcome.detail
    assert live_file.read_text() == "1.0.0"
    env = json.loads((tmp_path / "env.json").read_text())
    assert env["RELEASEGATE_VERSION"] == "1.0.0"
    assert env["RELEASEGATE_PREVIOUS_VERSION"] == "1.1.0"
    assert env["RELEASEGATE_KIND"] == "rollback"
    runs = engine.store.list_step_runs(outcome.deployment_id)
    [check] = [r for r in runs if r.step_id == "version"]
    assert (check.status, check.evidence["expected"]) == ("succeeded", "1.0.0")
    assert engine.store.live_version("staging") == "1.0.0"


def test_an_automatic_rollback_is_recorded_rolled_back_not_failed(
    tmp_path: Path, make_engine: EngineFactory, service: str, live_file: Path
) -> None:
    good = _engine(make_engine, _config(tmp_path, service))
    assert asyncio.run(good.deploy(good.plan("staging", "1.0.0", "normal"))).status == "succeeded"
    engine = _engine(make_engine, _config(tmp_path, service, fail_deploy=True))
    outcome = asyncio.run(engine.deploy(engine.plan("staging", "1.1.0", "normal")))
    assert outcome.status == "rolled_back", outcome.detail
    env = json.loads((tmp_path / "env.json").read_text())
    assert (env["RELEASEGATE_VERSION"], env["RELEASEGATE_PREVIOUS_VERSION"]) == ("1.0.0", "1.1.0")
    assert env["RELEASEGATE_KIND"] == "rollback"
    assert live_file.read_text() == "1.0.0"
