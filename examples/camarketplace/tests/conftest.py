"""Fixtures for the app's own tests: the app served in-process, on a fresh SQLite database."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

EXAMPLE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(EXAMPLE / "app"))  # the shared package, as a version directory sees it

from camarketplace import migrate  # noqa: E402
from camarketplace.build import load_build  # noqa: E402
from camarketplace.db import Database  # noqa: E402
from camarketplace.factory import create_app  # noqa: E402
from camarketplace.settings import Settings  # noqa: E402

VERSIONS = sorted(path.name for path in (EXAMPLE / "versions").iterdir() if path.is_dir())


@pytest.fixture(params=VERSIONS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for one version, its database migrated to the schema it needs."""
    build = load_build(EXAMPLE / "versions" / request.param / "manifest.json")
    result = Settings(
        build=build,
        database_url=f"sqlite:///{tmp_path / 'app.db'}",
        data_dir=tmp_path,
        redis_url=None,
        secret="test-signing-key",  # pragma: allowlist secret
    )
    db = Database(result.database_url)
    migrate.up(db, build.features.schema)
    db.close()
    return result


@pytest.fixture
def client(settings: Settings) -> Iterator[httpx.Client]:
    """A client for the app, served by uvicorn in a thread on a free loopback port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(create_app(settings), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "the app did not start"
    port = sock.getsockname()[1]
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            yield http
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def auth(client: httpx.Client) -> dict[str, str]:
    """The Authorization header of the signed-in demo user."""
    password = "demo-pass-123"  # pragma: allowlist secret
    response = client.post(
        "/api/auth/login", json={"email": "demo@camarketplace.test", "password": password}
    )
    assert response.status_code == 200
    return {"Authorization": f"Bearer {response.json()['token']}"}
