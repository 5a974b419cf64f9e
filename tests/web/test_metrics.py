"""The metrics over the API and on the dashboard: the figures graded against their
targets, and the report's charts on the page (as images a strict CSP allows)."""

from __future__ import annotations

import base64
import re

from httpx import Client

from .conftest import auth
from .test_api import _wait_for
from .test_pages import _login


def _deploy(client: Client, token: str, signer: str, version: str) -> None:
    """Deploy ``version`` to staging and sign its checklist item (``signer``'s token)."""
    started = client.post("/api/v1/deployments", headers=auth(token),
                          json={"environment": "staging", "version": version})
    assert started.status_code in (200, 202), started.text
    id = started.json().get("deployment_id")
    _wait_for(lambda: client.get(f"/api/v1/deployments/{id}", headers=auth(token))
              .json()["waiting_for"], "waiting")
    signed = client.post("/api/v1/confirmations", headers=auth(signer),
                         json={"deployment": id, "item": "team-ready"})
    assert signed.status_code == 201, signed.text
    _wait_for(lambda: client.get(f"/api/v1/deployments/{id}", headers=auth(token))
              .json()["deployment"]["status"] == "succeeded", "succeeded")


def test_the_api_grades_the_recorded_deployments(client: Client, tokens_of) -> None:  # type: ignore[no-untyped-def]
    for version in ("1.0.0", "1.0.1"):
        _deploy(client, tokens_of["dev"], tokens_of["ana"], version)
    got = client.get("/api/v1/metrics", params={"environment": "staging", "since": "30d"},
                     headers=auth(tokens_of["vic"]))
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["scope"]["environment"] == "staging"
    assert body["change_failure_rate"]["n"] == 2
    assert body["change_failure_rate"]["value"] == 0
    assert body["change_failure_rate"]["status"] == "not enough data"  # 2 < metrics.min_n
    wrong = client.get("/api/v1/metrics", params={"since": "soon"}, headers=auth(tokens_of["vic"]))
    assert wrong.status_code == 400
    assert "soon" in wrong.json()["error"]["message"]
    nowhere = client.get("/api/v1/metrics", params={"environment": "qa"}, headers=auth(tokens_of["vic"]))
    assert nowhere.status_code == 404


def test_the_page_shows_the_figures_and_draws_the_charts(client: Client, tokens_of) -> None:  # type: ignore[no-untyped-def]
    _deploy(client, tokens_of["dev"], tokens_of["ana"], "2.0.0")
    _login(client, tokens_of["vic"])
    page = client.get("/delivery", params={"environment": "staging", "since": "30d"})
    assert page.status_code == 200
    assert "Deployment frequency" in page.text
    assert '<option value="30d" selected>' in page.text
    images = re.findall(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)" alt="([^"]+)"', page.text)
    assert len(images) == 4
    svg = base64.b64decode(images[0][0]).decode()
    assert svg.startswith("<svg")
    assert "Deployments per week" in svg
    assert all(alt for _, alt in images)
    # the charts are data: images, which the page's CSP allows (inline SVG styles would not be)
    assert "img-src 'self' data:" in page.headers["content-security-policy"]
    # a drawn page is kept while nothing new is recorded; a new deployment shows at once
    row = re.compile(r"Change failure rate</th><td>[^<]*</td><td>[^<]*</td>\s*<td>.*?</td><td>(\d+)</td>", re.S)
    found = row.search(page.text)
    assert found
    assert found.group(1) == "1"
    _deploy(client, tokens_of["dev"], tokens_of["ana"], "2.0.1")
    again = client.get("/delivery", params={"environment": "staging", "since": "30d"})
    found = row.search(again.text)
    assert found
    assert found.group(1) == "2"
    bad = client.get("/delivery", params={"since": "soon"})
    assert bad.status_code == 400
    assert "soon" in bad.text


def test_a_deployment_with_samples_shows_its_verification_chart(  # type: ignore[no-untyped-def]
    client: Client, tokens_of, workspace_factory
) -> None:
    from datetime import UTC, datetime, timedelta

    for version in ("2.9.0", "3.0.0"):
        _deploy(client, tokens_of["dev"], tokens_of["ana"], version)
    ws = workspace_factory()
    (dep,) = [d for d in ws.store.list_deployments(limit=5) if d.version == "3.0.0"]
    start = datetime.now(UTC) - timedelta(seconds=30)
    for n in range(3):
        ws.store.add_sample(deployment_id=dep.id, stage="immediate", at=start + timedelta(seconds=5 * n),
                            values={"p95": 20.0 + n, "error_rate": 0.0})
    _login(client, tokens_of["vic"])
    page = client.get(f"/deployments/{dep.id}")
    assert f'src="/deployments/{dep.id}/verification.svg"' in page.text
    chart = client.get(f"/deployments/{dep.id}/verification.svg")
    assert chart.status_code == 200
    assert chart.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in chart.text[:1000]
    assert "3.0.0" in chart.text
    # matplotlib styles its shapes inline: allowed in the image alone, which runs no script
    assert chart.headers["content-security-policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    others = [d for d in ws.store.list_deployments(limit=10) if d.id != dep.id]
    assert "Verification" not in client.get(f"/deployments/{others[0].id}").text
    none = client.get(f"/deployments/{others[0].id}/verification.svg")
    assert none.status_code == 400
    assert "no verification samples" in none.text
