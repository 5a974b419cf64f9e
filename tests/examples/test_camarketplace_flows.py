"""The checklist's critical user flows on each version, and 1.2.1's deliberate regressions."""

from __future__ import annotations

import hashlib
import statistics
import time

import httpx
import pytest
from camarketplace_harness import DEMO_LOGIN, Server, login

ALL = ["1.1.5", "1.2.0", "1.2.1"]
METHODS = ["card", "upi", "netbanking", "wallet"]


@pytest.mark.parametrize("version", ALL)
def test_login_gives_a_token_that_other_versions_accept(
    servers: dict[str, Server], version: str
) -> None:
    with servers[version].client() as client:
        headers = login(client)
    with servers["1.2.0"].client() as other:
        me = other.get("/api/auth/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["email"] == DEMO_LOGIN["email"]


def test_login_refuses_a_wrong_password(servers: dict[str, Server]) -> None:
    with servers["1.2.0"].client() as client:
        response = client.post("/api/auth/login", json=DEMO_LOGIN | {"password": "nope"})
    assert response.status_code == 401


def test_flows_need_a_token(servers: dict[str, Server]) -> None:
    with servers["1.2.0"].client() as client:
        response = client.post("/api/service-requests", json={"title": "Audit"})
    assert response.status_code == 401


@pytest.mark.parametrize("version", ALL)
def test_service_request_is_created_and_read_back(servers: dict[str, Server], version: str) -> None:
    with servers[version].client() as client:
        headers = login(client)
        created = client.post(
            "/api/service-requests",
            json={"title": "GST filing for Q3", "category": "gst-filing"},
            headers=headers,
        )
        assert created.status_code == 201
        read = client.get(f"/api/service-requests/{created.json()['id']}", headers=headers)
    assert read.json()["status"] == "open"
    assert read.json()["title"] == "GST filing for Q3"


def _pay(client: httpx.Client, headers: dict[str, str], method: str) -> httpx.Response:
    return client.post(
        "/api/payments", json={"amount": "499.00", "method": method}, headers=headers
    )


@pytest.mark.parametrize("version", ["1.1.5", "1.2.0"])
@pytest.mark.parametrize("method", METHODS)
def test_good_versions_capture_every_payment_method(
    servers: dict[str, Server], version: str, method: str
) -> None:
    with servers[version].client() as client:
        response = _pay(client, login(client), method)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "captured"
    assert response.json()["amount"] == "499.00"


def test_bad_hotfix_fails_every_upi_payment_and_no_other(servers: dict[str, Server]) -> None:
    with servers["1.2.1"].client() as client:
        headers = login(client)
        upi = [_pay(client, headers, "upi") for _ in range(3)]
        others = [_pay(client, headers, method) for method in METHODS if method != "upi"]
        metrics = client.get("/metrics").text
    assert [r.status_code for r in upi] == [502, 502, 502]
    assert upi[0].json()["payment"]["status"] == "failed"
    assert "upi" in upi[0].json()["detail"]
    assert [r.status_code for r in others] == [201, 201, 201]
    assert 'camarketplace_payments_total{method="upi",outcome="failed"} 3' in metrics


def test_reconciliation_exists_from_1_2_0_only(servers: dict[str, Server]) -> None:
    with servers["1.2.0"].client() as client:
        headers = login(client)
        paid = _pay(client, headers, "card").json()
        assert paid["reconciliation"] == {"status": "pending", "reconciledAt": None}
        run = client.post("/api/payments/reconcile", headers=headers)
        assert run.status_code == 200
        assert run.json()["paymentsReconciled"] >= 1
        after = client.get(f"/api/payments/{paid['id']}", headers=headers).json()
    assert after["reconciliation"]["status"] == "reconciled"
    with servers["1.1.5"].client() as old:
        old_headers = login(old)
        assert old.post("/api/payments/reconcile", headers=old_headers).status_code in {404, 405}
        # 1.1.5 reads the same payment from the 1.2.0 schema, without the new fields.
        seen = old.get(f"/api/payments/{paid['id']}", headers=old_headers).json()
    assert seen["status"] == "captured"
    assert "reconciliation" not in seen


def test_bad_hotfix_more_than_doubles_p95_latency(servers: dict[str, Server]) -> None:
    def p95(server: Server) -> float:
        timings = []
        with server.client() as client:
            for _ in range(40):
                start = time.perf_counter()
                client.get("/monitoring/health").raise_for_status()
                timings.append(time.perf_counter() - start)
        return statistics.quantiles(timings, n=20)[-1]

    good, bad = p95(servers["1.2.0"]), p95(servers["1.2.1"])
    assert bad > 2 * good
    assert bad > 0.05


@pytest.mark.parametrize("version", ALL)
def test_file_upload_is_stored_and_read_back(servers: dict[str, Server], version: str) -> None:
    content = f"invoice for {version}\n".encode()
    with servers[version].client() as client:
        headers = login(client)
        uploaded = client.post(
            "/api/files", files={"file": ("invoice.txt", content, "text/plain")}, headers=headers
        )
        assert uploaded.status_code == 201
        body = uploaded.json()
        back = client.get(f"/api/files/{body['id']}/content", headers=headers)
    assert body["size"] == len(content)
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert back.content == content
    stored = servers[version].log.parent / "uploads" / body["id"] / "invoice.txt"
    assert stored.read_bytes() == content


@pytest.mark.parametrize("version", ALL)
def test_email_is_delivered_to_the_outbox(servers: dict[str, Server], version: str) -> None:
    with servers[version].client() as client:
        headers = login(client)
        sent = client.post(
            "/api/notifications/email",
            json={"to": "ca@example.in", "subject": f"Hello from {version}", "body": "Namaste"},
            headers=headers,
        )
        assert sent.status_code == 202
        read = client.get(f"/api/notifications/outbox/{sent.json()['id']}", headers=headers)
        missing = client.get("/api/notifications/outbox/email_0000000000000000", headers=headers)
    assert read.json()["subject"] == f"Hello from {version}"
    assert read.json()["to"] == "ca@example.in"
    assert missing.status_code == 404
