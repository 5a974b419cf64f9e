"""The API over a PostgreSQL store: tokens, an approval recorded once, a waiting
deployment that a confirmation from the API lets go on, its event stream."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from releasegate.service import tokens
from releasegate.service.workspace import Workspace
from releasegate.web import create_app

from .conftest import CONFIG, auth, serve
from .test_api import _read_events, _wait_for

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_client(tmp_path: Path, pg_url: str) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    (tmp_path / "releasegate.yaml").write_text(CONFIG)
    made: list[Workspace] = []

    def factory() -> Workspace:
        ws = Workspace(tmp_path / "releasegate.yaml", pg_url)
        made.append(ws)
        return ws

    ws = factory()
    root = ws.actor(requested="root", env_user=None)
    secrets = {u: tokens.create_token(ws, root, f"t-{u}", user=u).secret for u in ("ana", "dev", "vic")}
    for url in serve(create_app(factory)):
        with httpx.Client(base_url=url, timeout=60) as client:
            yield client, secrets
    for w in made:
        w.close()


def test_the_api_over_postgresql(pg_client: tuple[httpx.Client, dict[str, str]]) -> None:
    client, secrets = pg_client
    body = {"environment": "production", "version": "1.0", "role": "qa"}
    assert client.post("/api/v1/approvals", headers=auth(secrets["ana"]), json=body).status_code == 201
    assert client.post("/api/v1/approvals", headers=auth(secrets["ana"]), json=body).status_code == 409
    assert client.post("/api/v1/approvals", headers=auth(secrets["vic"]), json=body).status_code == 403
    dev = auth(secrets["dev"])
    started = client.post("/api/v1/deployments", headers=dev, json={"environment": "staging", "version": "1.1"})
    assert started.status_code == 202, started.text
    id = started.json()["deployment_id"]
    _wait_for(lambda: client.get(f"/api/v1/deployments/{id}", headers=dev).json()["waiting_for"], "waiting")
    signed = client.post("/api/v1/confirmations", headers=auth(secrets["ana"]),
                         json={"deployment": id, "item": "team-ready"})
    assert signed.status_code == 201
    types = [t for _, t in _read_events(client, id, dev, until="end")]
    assert types[-2:] == ["deployment.succeeded", "lock.released"]
    assert client.get("/api/v1/audit/verify", headers=dev).json()["ok"] is True
