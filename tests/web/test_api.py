"""The REST API against a real store: tokens, roles, the one error shape, sign-offs that
let a waiting deployment go on."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from httpx import Client

from .conftest import auth


def _wait_for(predicate, what: str, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_monitoring_answers_without_a_token(client: Client) -> None:
    assert client.get("/monitoring/health").json()["status"] == "ok"
    assert client.get("/monitoring/version").json() == {"version": "0.1.0"}
    text = client.get("/metrics").text
    assert 'releasegate_http_requests_total{route="/monitoring/health",status="200"} 1' in text
    assert client.get("/monitoring/health").headers["x-content-type-options"] == "nosniff"


def test_every_bad_token_gets_the_same_401(client: Client, tokens_of, workspace_factory) -> None:  # type: ignore[no-untyped-def]
    from releasegate.service import tokens

    ws = workspace_factory()
    root = ws.actor(requested="root", env_user=None)
    expired = tokens.create_token(ws, root, "soon", user="ana", expires="1s").secret
    revoked = tokens_of["ben"]
    tokens.revoke_token(ws, root, "t-ben")
    _wait_for(lambda: client.get("/api/v1/freezes", headers=auth(expired)).status_code == 401, "expiry")
    for headers in (
        {}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer"},
        auth("rg_" + "x" * 43), auth("not-a-token"), auth(revoked), auth(expired),
    ):
        got = client.get("/api/v1/environments", headers=headers)
        assert got.status_code == 401, headers
        assert got.json() == {"error": {
            "kind": "unauthenticated",
            "message": "the API token is missing, malformed, unknown, revoked or expired",
            "details": [],
        }}
        assert got.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/v1/environments", headers=auth(tokens_of["vic"])).status_code == 200


def test_a_viewer_may_read_but_not_act(client: Client, tokens_of) -> None:  # type: ignore[no-untyped-def]
    vic = auth(tokens_of["vic"])
    envs = client.get("/api/v1/environments", headers=vic).json()
    assert [e["environment"] for e in envs] == ["staging", "production"]
    assert envs[0]["live_version"] is None
    assert envs[0]["policy"]["allowed_now"] is True
    got = client.post("/api/v1/deployments", headers=vic, json={"environment": "staging", "version": "1.0"})
    assert got.status_code == 403
    assert got.json()["error"] == {
        "kind": "forbidden",
        "message": "vic may not deploy: it needs one of the roles devops, admin (permissions.deploy); vic holds viewer",
        "details": [],
    }
    got = client.post("/api/v1/approvals", headers=vic,
                      json={"environment": "production", "version": "1.0", "role": "qa"})
    assert got.status_code == 403
    assert client.get("/api/v1/deployments", headers=vic).json()["items"] == []


def test_the_same_approval_twice_is_a_409(client: Client, tokens_of) -> None:  # type: ignore[no-untyped-def]
    body = {"environment": "production", "version": "1.0", "role": "qa", "note": "tested"}
    first = client.post("/api/v1/approvals", headers=auth(tokens_of["ana"]), json=body)
    assert first.status_code == 201, first.text
    assert first.json()["missing"] == ["tech-lead"]
    again = client.post("/api/v1/approvals", headers=auth(tokens_of["ana"]), json=body)
    assert again.status_code == 409
    assert again.json()["error"]["message"].startswith("ana already approved 1.0 for production as qa at ")
    # a role ana does not hold is refused by policy, said as a blocked request
    other = client.post("/api/v1/approvals", headers=auth(tokens_of["ana"]),
                        json={**body, "role": "tech-lead"})
    assert other.status_code == 409
    assert other.json()["error"]["kind"] == "blocked"


def test_approvals_from_the_api_let_a_blocked_deployment_through(client: Client, tokens_of) -> None:  # type: ignore[no-untyped-def]
    dev = auth(tokens_of["dev"])
    body = {"environment": "production", "version": "2.0"}
    blocked = client.post("/api/v1/deployments", headers=dev, json=body)
    assert blocked.status_code == 409
    assert blocked.json()["error"]["message"] == "production: deployment blocked by policy (approval:qa, approval:tech-lead)"
    assert blocked.json()["error"]["details"]  # the explanation, line by line
    for who, role in (("ana", "qa"), ("ben", "tech-lead")):
        got = client.post("/api/v1/approvals", headers=auth(tokens_of[who]),
                          json={**body, "role": role})
        assert got.status_code == 201, got.text
    started = client.post("/api/v1/deployments", headers=dev, json=body)
    assert started.status_code in (200, 202), started.text
    id = started.json().get("deployment_id") or started.json()["deployment_id"]
    done = _wait_for(
        lambda: (d := client.get(f"/api/v1/deployments/{id}", headers=dev).json())["deployment"]["status"]
        in ("succeeded", "failed") and d,
        "the deployment to finish",
    )
    assert done["deployment"]["status"] == "succeeded"
    assert [a["role"] for a in done["approvals"]] == ["qa", "tech-lead"]
    envs = client.get("/api/v1/environments/production", headers=dev).json()
    assert envs["live_version"] == "2.0"


def test_a_confirmation_from_the_api_lets_a_waiting_deployment_go_on(client: Client, tokens_of) -> None:  # type: ignore[no-untyped-def]
    dev = auth(tokens_of["dev"])
    started = client.post("/api/v1/deployments", headers=dev, json={"environment": "staging", "version": "1.1"})
    assert started.status_code == 202, started.text
    id = started.json()["deployment_id"]
    _wait_for(
        lambda: client.get(f"/api/v1/deployments/{id}", headers=dev).json()["waiting_for"] == ["team-ready"],
        "the deployment to wait for team-ready",
    )
    # the wrong role is refused; the right one signs, and the deployment goes on
    wrong = client.post("/api/v1/confirmations", headers=dev, json={"deployment": id, "item": "team-ready"})
    assert wrong.status_code == 403
    signed = client.post("/api/v1/confirmations", headers=auth(tokens_of["ana"]),
                         json={"deployment": id, "item": "team-ready", "note": "all here"})
    assert signed.status_code == 201, signed.text
    shown = _wait_for(
        lambda: (d := client.get(f"/api/v1/deployments/{id}", headers=dev).json())["deployment"]["status"]
        in ("succeeded", "failed") and d,
        "the deployment to finish",
    )
    assert shown["deployment"]["status"] == "succeeded", shown["deployment"]["detail"]
    assert shown["confirmations"][0]["user"] == "ana"
    listed = client.get("/api/v1/deployments?environment=staging&limit=1", headers=dev).json()
    assert [d["id"] for d in listed["items"]] == [id]


def test_errors_have_one_shape_and_statuses(client: Client, tokens_of) -> None:  # type: ignore[no-untyped-def]
    root = auth(tokens_of["root"])
    missing = client.get("/api/v1/deployments/999", headers=root)
    assert (missing.status_code, missing.json()["error"]["kind"]) == (404, "not_found")
    assert missing.json()["error"]["message"] == "there is no deployment 999"
    unknown = client.get("/api/v1/environments/prod", headers=root)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"].startswith("unknown environment 'prod'")
    bad = client.post("/api/v1/approvals", headers=root, json={"environment": "production"})
    assert bad.status_code == 422
    assert bad.json()["error"]["kind"] == "invalid"
    page = client.get("/api/v1/deployments?limit=0", headers=root)
    assert page.status_code == 422
    kind = client.get("/api/v1/plan?environment=staging&version=1.0&kind=weird", headers=root)
    assert (kind.status_code, kind.json()["error"]["kind"]) == (400, "invalid")
    assert client.get("/nowhere").json()["error"]["kind"] == "not_found"


def test_the_calendar_through_the_api(client: Client, tokens_of) -> None:  # type: ignore[no-untyped-def]
    dev = auth(tokens_of["dev"])
    now = datetime.now(UTC)
    got = client.post("/api/v1/freezes", headers=dev, json={
        "environment": "staging", "start": (now - timedelta(hours=1)).isoformat(),
        "end": (now + timedelta(hours=1)).isoformat(), "reason": "db maintenance",
    })
    assert got.status_code == 201, got.text
    env = client.get("/api/v1/environments/staging", headers=dev).json()
    assert env["policy"]["allowed_now"] is False
    assert any("db maintenance" in f for f in env["freezes_in_force"])
    refused = client.post("/api/v1/deployments", headers=dev, json={"environment": "staging", "version": "1.2"})
    assert refused.status_code == 409
    freeze_id = got.json()["id"]
    assert client.delete(f"/api/v1/freezes/{freeze_id}", headers=dev).status_code == 200
    assert client.get("/api/v1/freezes", headers=dev).json() == []
    explained = client.get("/api/v1/explain?environment=staging", headers=dev).json()
    assert explained["allowed"] is True
    assert client.get("/api/v1/audit/verify", headers=dev).json()["ok"] is True


def _read_events(client: Client, id: int, headers: dict[str, str], *, until: str) -> list[tuple[int, str]]:
    """``(id, type)`` of the stream's events, read until an event of type ``until``."""
    seen: list[tuple[int, str]] = []
    with client.stream("GET", f"/api/v1/deployments/{id}/events", headers=headers) as got:
        assert got.status_code == 200
        assert got.headers["content-type"].startswith("text/event-stream")
        event_id, kind = None, None
        for line in got.iter_lines():
            if line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("event: "):
                kind = line[7:]
            elif line == "" and kind is not None:
                if event_id is not None:
                    seen.append((event_id, kind))
                if kind == until:
                    return seen
                event_id, kind = None, None
    return seen


def test_the_event_stream_is_live_and_resumes_after_last_event_id(client: Client, tokens_of) -> None:  # type: ignore[no-untyped-def]
    dev = auth(tokens_of["dev"])
    started = client.post("/api/v1/deployments", headers=dev, json={"environment": "staging", "version": "3.0"})
    assert started.status_code == 202, started.text
    id = started.json()["deployment_id"]
    assert started.json()["events"] == f"/api/v1/deployments/{id}/events"
    # the stream is open while the deployment waits; a signature makes it go on, live
    first = _read_events(client, id, dev, until="step.started")
    assert first[0][1] == "deployment.created"
    signed = client.post("/api/v1/confirmations", headers=auth(tokens_of["ana"]),
                         json={"deployment": id, "item": "team-ready"})
    assert signed.status_code == 201
    rest = _read_events(client, id, {**dev, "Last-Event-ID": str(first[-1][0])}, until="end")
    assert rest[0][0] > first[-1][0]  # nothing sent twice
    types = [t for _, t in rest]
    assert "confirmation.recorded" in types
    assert types[-2:] == ["deployment.succeeded", "lock.released"]
    everything = _read_events(client, id, dev, until="end")
    assert everything == first + rest
    assert client.get("/api/v1/deployments/999/events", headers=dev).status_code == 404
