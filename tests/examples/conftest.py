"""Fixtures for the example service: real uvicorn processes serving each version."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from camarketplace_harness import Server, free_port, migrate, service_env, start_server


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    """1.1.5, 1.2.0 and 1.2.1 side by side on ONE SQLite database migrated to 1.2.0's schema.

    Redis differs on purpose: 1.1.5 has no REDIS_URL, 1.2.0 uses the real Redis, and 1.2.1
    points at a port where nothing listens.
    """
    data = tmp_path_factory.mktemp("camarketplace")
    env = service_env(data)
    result = migrate("1.2.0", "up", env)
    assert result.returncode == 0, result.stderr
    redis = {
        "1.1.5": {},
        "1.2.0": {"REDIS_URL": "redis://127.0.0.1:6379/0"},
        "1.2.1": {"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"},
    }
    started = {
        version: start_server(version, env | extra, data) for version, extra in redis.items()
    }
    deadline = time.monotonic() + 20
    try:
        for server in started.values():
            server.wait_ready(deadline)
        yield started
    finally:
        for server in started.values():
            server.stop()
