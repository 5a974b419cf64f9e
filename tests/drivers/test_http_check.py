"""``http-check`` and ``version-check`` against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from httpapp import RESET, AppServer, Request, slow
from pydantic import ValidationError

from releasegate.drivers.api import Release
from releasegate.drivers.checks.http_check import HttpCheck
from releasegate.drivers.checks.version_check import VersionCheck
from releasegate.testing import StaticSecrets, run_driver

FAST = {"deadline": "300ms", "interval": "100ms"}


def test_healthy_paths_pass(app_server: AppServer) -> None:
    app_server.route("GET", "/monitoring/health", body={"status": "ok", "db": {"up": True}})
    app_server.route("GET", "/monitoring/health/db", body="database ok")
    result = run_driver(
        HttpCheck(),
        {
            "paths": ["/monitoring/health", "/monitoring/health/db"],
            "status": 200,
        },
        url=app_server.url,
    )
    assert result.ok, result.summary
    assert result.summary.startswith("2 endpoints healthy")
    assert [c["status"] for c in result.evidence["checks"]] == [200, 200]  # type: ignore[index,union-attr]


def test_json_field_with_dotted_path(app_server: AppServer) -> None:
    app_server.route("GET", "/h", body={"status": "ok", "checks": [{"name": "db", "up": False}]})
    result = run_driver(
        HttpCheck(), {"paths": "/h", "json": {"status": "ok", "checks.0.up": True}, **FAST}, url=app_server.url
    )
    assert not result.ok
    assert result.summary.startswith(f"GET {app_server.url}/h: json checks.0.up is False, expected True")


def test_wrong_status_and_missing_text(app_server: AppServer) -> None:
    app_server.route("GET", "/h", status=503, body="maintenance")
    result = run_driver(
        HttpCheck(), {"paths": "/h", "body_contains": ["healthy"], **FAST}, url=app_server.url
    )
    assert not result.ok
    assert (
        f"GET {app_server.url}/h: status 503, expected 200; body does not contain 'healthy'"
        in result.summary
    )


def test_full_url_needs_no_environment_url(app_server: AppServer) -> None:
    app_server.route("GET", "/h", body="ok")
    result = run_driver(HttpCheck(), {"paths": f"{app_server.url}/h"})
    assert result.ok


def test_relative_path_without_url_is_a_clear_failure() -> None:
    result = run_driver(HttpCheck(), {"paths": "/h"})
    assert not result.ok
    assert result.summary == "'/h' is a relative path but the environment has no url (give a full URL)"


def test_retries_until_healthy_within_deadline(app_server: AppServer) -> None:
    became_healthy = time.monotonic() + 0.5

    def flaky(_req: Request) -> tuple[int, object]:
        return (200, "up") if time.monotonic() > became_healthy else (503, "starting")

    app_server.routes[("GET", "/h")] = flaky
    lines: list[str] = []
    result = run_driver(
        HttpCheck(), {"paths": "/h", "deadline": "5s", "interval": "100ms"}, url=app_server.url, progress=lines.append
    )
    assert result.ok
    assert result.evidence["attempts"] > 1  # type: ignore[operator]
    assert lines
    assert "status 503" in lines[0]


def test_gives_up_at_the_deadline(app_server: AppServer) -> None:
    app_server.route("GET", "/h", status=500)
    started = time.monotonic()
    result = run_driver(HttpCheck(), {"paths": "/h", "deadline": "600ms", "interval": "100ms"}, url=app_server.url)
    assert not result.ok
    assert time.monotonic() - started < 2
    assert "status 500, expected 200 (after" in result.summary


def test_latency_budget(app_server: AppServer) -> None:
    app_server.routes[("GET", "/slow")] = slow(0.3)
    result = run_driver(
        HttpCheck(), {"paths": "/slow", "max_latency": "100ms", "deadline": "0s"}, url=app_server.url
    )
    assert not result.ok
    assert "budget 100 ms" in result.summary


def test_connection_refused_is_a_clear_failure(refused_url: str) -> None:
    result = run_driver(HttpCheck(), {"paths": "/h", "deadline": "0s"}, url=refused_url)
    assert not result.ok
    assert result.summary == f"GET {refused_url}/h: connection refused (after 1 attempt)"


def test_connection_reset_is_a_clear_failure(app_server: AppServer) -> None:
    app_server.route("GET", "/h", body=RESET)
    result = run_driver(HttpCheck(), {"paths": "/h", "deadline": "0s"}, url=app_server.url)
    assert not result.ok
    assert result.summary in {
        f"GET {app_server.url}/h: connection reset by peer (after 1 attempt)",
        f"GET {app_server.url}/h: connection closed without a response (after 1 attempt)",
    }


def test_secret_header_is_sent_and_never_shown(app_server: AppServer) -> None:
    app_server.route("GET", "/h", status=401)
    result = run_driver(
        HttpCheck(),
        {"paths": "/h", "headers": {"Authorization": "Bearer ${env:TOKEN}"}, "deadline": "0s"},
        url=app_server.url,
        secrets=StaticSecrets({"TOKEN": "tok-123"}),
    )
    assert app_server.log[0].headers["Authorization"] == "Bearer tok-123"
    assert "tok-123" not in result.summary + str(result.evidence)


def test_unknown_option_is_rejected() -> None:
    with pytest.raises(ValidationError, match="pathz"):
        run_driver(HttpCheck(), {"pathz": ["/"]})


def test_version_check_passes_when_versions_match(app_server: AppServer) -> None:
    app_server.route("GET", "/monitoring/version", body={"version": "1.4.0", "commit": "abc"})
    result = run_driver(VersionCheck(), {}, url=app_server.url, release=Release("production", "1.4.0"))
    assert result.ok
    assert result.summary == f"{app_server.url}/monitoring/version reports version 1.4.0"


def test_version_check_waits_for_the_swap(app_server: AppServer) -> None:
    swapped = time.monotonic() + 0.4
    app_server.routes[("GET", "/monitoring/version")] = lambda _r: (
        200,
        {"version": "1.4.0" if time.monotonic() > swapped else "1.3.0"},
    )
    result = run_driver(
        VersionCheck(), {"deadline": "5s", "interval": "100ms"}, url=app_server.url, release=Release("p", "1.4.0")
    )
    assert result.ok


def test_version_check_names_the_wrong_version(app_server: AppServer, tmp_path: Path) -> None:
    app_server.route("GET", "/monitoring/version", body={"version": "1.3.0"})
    result = run_driver(
        VersionCheck(), {"deadline": "300ms", "interval": "100ms"}, url=app_server.url, release=Release("p", "1.4.0")
    )
    assert not result.ok
    assert "json version is '1.3.0', expected '1.4.0'" in result.summary


def test_a_url_with_a_path_and_no_paths_is_requested_as_it_is() -> None:
    from releasegate.drivers.httpcheck_common import join_url

    assert join_url("http://127.0.0.1:9/health.json", "/") == "http://127.0.0.1:9/health.json"
    assert join_url("http://127.0.0.1:9/api/", "/") == "http://127.0.0.1:9/api/"
    assert join_url("http://127.0.0.1:9", "/") == "http://127.0.0.1:9/"
    assert join_url("http://127.0.0.1:9/api", "/v1") == "http://127.0.0.1:9/api/v1"
