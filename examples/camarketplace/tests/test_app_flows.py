"""The critical flows, in-process, for every version in versions/."""

from __future__ import annotations

import httpx


def test_health_and_version(client: httpx.Client) -> None:
    assert client.get("/monitoring/health").json()["status"] == "ok"
    assert client.get("/monitoring/health/db").json()["status"] == "ok"
    assert client.get("/monitoring/health/redis").json() == {"status": "not-configured"}
    assert client.get("/monitoring/version").json()["version"] in {"1.1.5", "1.2.0", "1.2.1"}


def test_wrong_password_is_refused(client: httpx.Client) -> None:
    response = client.post(
        "/api/auth/login",
        json={"email": "demo@camarketplace.test", "password": "wrong"},  # pragma: allowlist secret
    )
    assert response.status_code == 401


def test_service_request_round_trip(client: httpx.Client, auth: dict[str, str]) -> None:
    created = client.post(
        "/api/service-requests", json={"title": "Company registration"}, headers=auth
    )
    assert created.status_code == 201
    read = client.get(f"/api/service-requests/{created.json()['id']}", headers=auth)
    assert read.json()["title"] == "Company registration"


def test_card_payment_is_captured(client: httpx.Client, auth: dict[str, str]) -> None:
    # Only card is paid here, as in many real suites; the smoke flows pay with every method.
    response = client.post(
        "/api/payments", json={"amount": "2500.50", "method": "card"}, headers=auth
    )
    assert response.status_code == 201
    assert response.json()["amount"] == "2500.50"


def test_payment_needs_a_known_method(client: httpx.Client, auth: dict[str, str]) -> None:
    response = client.post("/api/payments", json={"amount": 10, "method": "cash"}, headers=auth)
    assert response.status_code == 422


def test_upload_and_email(client: httpx.Client, auth: dict[str, str]) -> None:
    uploaded = client.post("/api/files", files={"file": ("pan.pdf", b"%PDF-1.4")}, headers=auth)
    assert uploaded.json()["size"] == 8
    sent = client.post(
        "/api/notifications/email",
        json={"to": "client@example.in", "subject": "Your filing"},
        headers=auth,
    )
    message = client.get(f"/api/notifications/outbox/{sent.json()['id']}", headers=auth)
    assert message.json()["subject"] == "Your filing"
