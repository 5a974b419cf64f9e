"""The monitoring endpoints of every version, exactly as the deployment checklist curls them."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from camarketplace_harness import VERSIONS, Server, login

ALL = ["1.1.5", "1.2.0", "1.2.1"]


@pytest.mark.parametrize("version", ALL)
def test_health_reports_ok_with_a_utc_timestamp(servers: dict[str, Server], version: str) -> None:
    with servers[version].client() as client:
        body = client.get("/monitoring/health").json()
    assert body["status"] == "ok"
    assert body.keys() == {"status", "timestamp"}
    assert datetime.fromisoformat(body["timestamp"]).utcoffset() is not None


@pytest.mark.parametrize("version", ALL)
def test_version_matches_the_build_manifest(servers: dict[str, Server], version: str) -> None:
    manifest = json.loads((VERSIONS / version / "manifest.json").read_text())
    with servers[version].client() as client:
        assert client.get("/monitoring/version").json() == {
            "version": version,
            "commit": manifest["commit"],
            "buildTime": manifest["buildTime"],
        }


@pytest.mark.parametrize("version", ALL)
def test_db_health_reports_the_schema(servers: dict[str, Server], version: str) -> None:
    with servers[version].client() as client:
        response = client.get("/monitoring/health/db")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "sqlite"
    assert response.json()["schemaVersion"] == 2


def test_redis_health_is_ok_against_the_real_redis(servers: dict[str, Server]) -> None:
    with servers["1.2.0"].client() as client:
        response = client.get("/monitoring/health/redis")
    assert (response.status_code, response.json()["status"]) == (200, "ok")


def test_redis_health_is_down_with_the_reason_on_a_dead_port(servers: dict[str, Server]) -> None:
    with servers["1.2.1"].client() as client:
        response = client.get("/monitoring/health/redis")
    assert response.status_code == 503
    assert response.json()["status"] == "down"
    assert "refused" in response.json()["reason"].lower()


def test_redis_health_is_not_configured_without_redis_url(servers: dict[str, Server]) -> None:
    with servers["1.1.5"].client() as client:
        response = client.get("/monitoring/health/redis")
    assert (response.status_code, response.json()) == (200, {"status": "not-configured"})


def test_metrics_count_requests_by_route_template_and_status(servers: dict[str, Server]) -> None:
    with servers["1.2.0"].client() as client:
        headers = login(client)
        for _ in range(3):
            client.get("/api/service-requests/sr_missing", headers=headers)
        text = client.get("/metrics").text
    assert 'camarketplace_build_info{version="1.2.0",' in text
    assert re.search(
        r'camarketplace_http_requests_total\{method="GET",'
        r'path="/api/service-requests/\{request_id\}",status="404"\} (\d+)',
        text,
    )
    count = re.search(
        r'camarketplace_http_request_duration_seconds_count\{path="/api/auth/login"\} (\d+)', text
    )
    inf = re.search(
        r'camarketplace_http_request_duration_seconds_bucket\{path="/api/auth/login",le="\+Inf"\} (\d+)',
        text,
    )
    assert count
    assert inf
    assert int(count.group(1)) == int(inf.group(1)) >= 1


def test_readme_documents_every_version() -> None:
    readme = (Path(VERSIONS).parent / "README.md").read_text()
    for version in ALL:
        assert f"versions/{version}" in readme
