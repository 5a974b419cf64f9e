"""The queue's routes on the embedded default (a SQLite store, no workers): nothing
queued, and cancelling asks for the same permission as cancelling a deployment."""

from __future__ import annotations

from httpx import Client

from .conftest import auth


def test_the_queue_is_empty_without_team_mode(client: Client, tokens_of: dict[str, str]) -> None:
    answer = client.get("/api/v1/queue", headers=auth(tokens_of["vic"]))
    assert (answer.status_code, answer.json()) == (200, [])
    assert client.get("/api/v1/queue").status_code == 401


def test_cancelling_a_queued_deployment_needs_the_cancel_permission(
    client: Client, tokens_of: dict[str, str]
) -> None:
    refused = client.post("/api/v1/queue/1/cancel", headers=auth(tokens_of["vic"]))
    assert refused.status_code == 403, refused.text
    assert "cancel" in refused.json()["error"]["message"]
    missing = client.post("/api/v1/queue/1/cancel", headers=auth(tokens_of["dev"]))
    assert missing.status_code == 404, missing.text
    assert missing.json()["error"]["message"] == "there is no queued deployment q1"
