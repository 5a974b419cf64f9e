"""The dashboard's pages over a real server: sign in with a token, the matrix, a
deployment's page with the buttons a person may press, CSRF, a viewer's forged POST."""

from __future__ import annotations

import re

from httpx import Client

from .conftest import auth
from .test_api import _wait_for


def _login(client: Client, token: str) -> str:
    """Sign in; return the CSRF token of the session."""
    got = client.post("/login", data={"token": token, "next": "/"})
    assert got.status_code == 303
    assert got.headers["location"] == "/"
    cookie = got.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    page = client.get("/")
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text)
    assert found
    return found.group(1)


def test_pages_need_a_session_and_say_so_on_a_bad_token(client: Client) -> None:
    got = client.get("/history")
    assert (got.status_code, got.headers["location"]) == (303, "/login?next=/history")
    bad = client.post("/login", data={"token": "rg_nope", "next": "//evil.example"})
    assert bad.status_code == 401
    assert "the API token is missing, malformed, unknown, revoked or expired" in bad.text
    assert 'value="/"' in bad.text  # never a redirect off this server
    login = client.get("/login")
    assert '<label for="token">API token</label>' in login.text
    assert login.headers["content-security-policy"].startswith("default-src 'self'")
    assert login.headers["x-frame-options"] == "DENY"
    assert re.fullmatch(r"app;dur=\d+\.\d", login.headers["server-timing"])


def test_an_approver_signs_from_the_page_and_a_viewer_cannot(client: Client, base_url: str, tokens_of) -> None:  # type: ignore[no-untyped-def]
    dev = auth(tokens_of["dev"])
    started = client.post("/api/v1/deployments", headers=dev, json={"environment": "staging", "version": "4.0"})
    id = started.json()["deployment_id"]
    _wait_for(lambda: client.get(f"/api/v1/deployments/{id}", headers=dev).json()["waiting_for"], "waiting")

    with Client(base_url=base_url, timeout=60) as viewer:
        csrf = _login(viewer, tokens_of["vic"])
        matrix = viewer.get("/")
        assert "Deploying now" in matrix.text
        assert f'href="/deployments/{id}"' in matrix.text
        page = viewer.get(f"/deployments/{id}")
        assert page.status_code == 200
        assert "Sign team-ready" not in page.text
        assert "Waiting for someone else to sign team-ready." in page.text
        forged = viewer.post(f"/deployments/{id}/confirm", data={"item": "team-ready", "csrf": csrf})
        assert forged.status_code == 403
        assert "vic may not confirm" in forged.text
        no_csrf = viewer.post(f"/deployments/{id}/confirm", data={"item": "team-ready"})
        assert no_csrf.status_code == 403
        assert "CSRF token" in no_csrf.text

    with Client(base_url=base_url, timeout=60) as qa:
        csrf = _login(qa, tokens_of["ana"])
        page = qa.get(f"/deployments/{id}")
        assert "Sign team-ready" in page.text
        wrong = qa.post(f"/deployments/{id}/confirm", data={"item": "team-ready", "csrf": "0" * 64})
        assert wrong.status_code == 403
        signed = qa.post(f"/deployments/{id}/confirm",
                         data={"item": "team-ready", "note": "all here", "csrf": csrf})
        assert (signed.status_code, signed.headers["location"]) == (303, f"/deployments/{id}")
        _wait_for(lambda: "succeeded</span>" in qa.get(f"/deployments/{id}/live").text, "success")
        page = qa.get(f"/deployments/{id}")
        assert "team-ready</strong> signed by ana" in page.text
        history = qa.get("/history?environment=staging")
        assert f'<a href="/deployments/{id}">{id}</a>' in history.text
        audit = qa.get("/audit")
        assert "The record verifies: " in audit.text
        assert qa.post("/logout", data={"csrf": csrf}).status_code == 303
        assert qa.get("/").status_code == 303


def test_the_calendar_shows_a_freeze_on_its_days(client: Client, tokens_of) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    day = (datetime.now(UTC) + timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
    got = client.post("/api/v1/freezes", headers=auth(tokens_of["dev"]), json={
        "environment": "production", "start": day.isoformat(),
        "end": (day + timedelta(days=1)).isoformat(), "reason": "year-end audit",
    })
    assert got.status_code == 201, got.text
    _login(client, tokens_of["vic"])
    page = client.get("/calendar").text
    production = page[page.index('id="cal-production"'):]
    staging = page[page.index('id="cal-staging"'):page.index('id="cal-production"')]
    assert production.count("d-closed") == 1
    closed = production[production.index("d-closed"):]
    assert day.date().isoformat() in closed[:200]
    assert "year-end audit" in closed[:600]
    assert "d-closed" not in staging
    assert staging.count("d-open") == 14


def test_approvals_from_the_matrix_let_a_deployment_through(client: Client, base_url: str, tokens_of) -> None:  # type: ignore[no-untyped-def]
    dev = auth(tokens_of["dev"])
    body = {"environment": "production", "version": "7.0"}
    assert client.post("/api/v1/deployments", headers=dev, json=body).status_code == 409
    for who, role in (("ana", "qa"), ("ben", "tech-lead")):
        with Client(base_url=base_url, timeout=60) as person:
            csrf = _login(person, tokens_of[who])
            page = person.get("/").text
            assert f"Approve as {role}" in page
            assert page.count("Approve as") == 1  # only the role this person holds
            done = person.post("/environments/production/approve",
                               data={"version": "7.0", "role": role, "csrf": csrf})
            assert done.status_code == 200, done.text
            assert f"{who} approved 7.0 for production as {role}" in done.text
    with Client(base_url=base_url, timeout=60) as viewer:
        csrf = _login(viewer, tokens_of["vic"])
        assert "Approve as" not in viewer.get("/").text
        forged = viewer.post("/environments/production/approve",
                             data={"version": "7.0", "role": "qa", "csrf": csrf})
        assert forged.status_code == 403
    started = client.post("/api/v1/deployments", headers=dev, json=body)
    assert started.status_code in (200, 202), started.text
    id = started.json()["deployment_id"]
    _wait_for(lambda: client.get(f"/api/v1/deployments/{id}", headers=dev).json()["deployment"]["status"]
              == "succeeded", "the deployment")
