"""Fixtures shared by the whole suite: real PostgreSQL databases, config files."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get(
    "RELEASEGATE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _admin_connect():  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True
    )


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The admin URL of the real PostgreSQL on this machine (skips nothing: it must answer)."""
    with _admin_connect() as conn:
        conn.execute("SELECT 1")
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"rg_test_{uuid.uuid4().hex[:12]}"
    with _admin_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with _admin_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"


@pytest.fixture(scope="session", autouse=True)
def _holiday_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The suite's own cache folder (holidays the package answered, kept between commands),
    not the user's; the commands the tests start inherit it."""
    from releasegate.config import holiday_cache

    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    holiday_cache.forget()
    yield
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before
    holiday_cache.forget()
