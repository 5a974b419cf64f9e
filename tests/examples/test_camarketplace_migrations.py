"""The example's own migrations: status, up, down, expand-only rollback, PostgreSQL, --port."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from camarketplace_harness import free_port, login, migrate, service_env, start_server


def test_status_up_down_walk_the_schema_per_version(tmp_path: Path) -> None:
    env = service_env(tmp_path)
    empty = migrate("1.1.5", "status", env)
    assert (empty.returncode, empty.stdout.strip()) == (
        1,
        "schema at 0, camarketplace 1.1.5 needs 1: pending 0001_initial",
    )
    assert migrate("1.1.5", "up", env).stdout.splitlines()[0] == "applied 0001_initial"
    assert migrate("1.1.5", "status", env).returncode == 0
    pending = migrate("1.2.0", "status", env)
    assert pending.returncode == 1
    assert "pending 0002_payment_reconciliation" in pending.stdout
    assert "applied 0002_payment_reconciliation" in migrate("1.2.0", "up", env).stdout
    ahead = migrate("1.1.5", "status", env)
    assert ahead.returncode == 0
    assert "ahead (expand-only, compatible)" in ahead.stdout
    down = migrate("1.2.0", "down", env)
    assert down.stdout.splitlines()[0] == "reverted 0002_payment_reconciliation"
    assert migrate("1.1.5", "status", env).stdout.strip().endswith("up to date")


def test_an_unknown_database_scheme_is_a_one_line_error(tmp_path: Path) -> None:
    result = migrate("1.2.0", "up", service_env(tmp_path, DATABASE_URL="mysql://db/app"))
    assert result.returncode == 2
    assert result.stderr == (
        "migrate: error: DATABASE_URL: unsupported scheme 'mysql' (sqlite, postgresql)\n"
    )


def test_a_build_on_an_older_schema_reports_db_down_with_the_fix(tmp_path: Path) -> None:
    env = service_env(tmp_path)
    migrate("1.1.5", "up", env)
    server = start_server("1.2.0", env, tmp_path, port=free_port())
    try:
        server.wait_ready(time.monotonic() + 20)
        with server.client() as client:
            response = client.get("/monitoring/health/db")
    finally:
        server.stop()
    assert response.status_code == 503
    assert response.json()["reason"] == (
        "schema at 1, this build needs 2: run python -m camarketplace.migrate up"
    )


@pytest.mark.postgres
def test_postgresql_runs_both_versions_on_the_expanded_schema(tmp_path: Path, pg_url: str) -> None:
    env = service_env(tmp_path, DATABASE_URL=pg_url)
    assert migrate("1.2.0", "up", env).returncode == 0
    old, new = (start_server(v, env, tmp_path) for v in ("1.1.5", "1.2.0"))
    try:
        deadline = time.monotonic() + 20
        old.wait_ready(deadline)
        new.wait_ready(deadline)
        with old.client() as c115, new.client() as c120:
            assert c120.get("/monitoring/health/db").json()["database"] == "postgresql"
            headers = login(c115)
            request = c115.post("/api/service-requests", json={"title": "ITR"}, headers=headers)
            paid = c115.post(
                "/api/payments",
                json={
                    "amount": 1200,
                    "method": "netbanking",
                    "serviceRequestId": request.json()["id"],
                },
                headers=headers,
            )
            assert paid.status_code == 201, paid.text
            seen = c120.get(f"/api/payments/{paid.json()['id']}", headers=headers).json()
    finally:
        old.stop()
        new.stop()
    assert seen["amount"] == "1200.00"
    assert seen["reconciliation"] == {"status": None, "reconciledAt": None}
    assert migrate("1.2.0", "down", env, "--to", "0").returncode == 0
    assert migrate("1.1.5", "status", env).returncode == 1
