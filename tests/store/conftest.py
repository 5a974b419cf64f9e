"""Fixtures of the store suite: every store test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from releasegate.store.api import Store, open_store
from releasegate.store.connection import parse_url


class FakeClock:
    """A clock the test moves by hand (the store takes any ``() -> datetime``)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 10, 10, 2, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL for an empty store: a SQLite file in tmp_path, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / '.releasegate' / 'state.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An open, migrated store on the real clock."""
    opened = open_store(store_url)
    yield opened
    opened.close()


@pytest.fixture
def clocked_store(store_url: str, clock: FakeClock) -> Iterator[Store]:
    """An open, migrated store whose time is ``clock``."""
    opened = open_store(store_url, clock=clock)
    yield opened
    opened.close()


def _raw_sql(url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_engine(parse_url(url))
    try:
        with engine.begin() as conn:
            result = conn.execute(text(sql), params)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


RawSql = Callable[..., list[tuple[object, ...]]]


@pytest.fixture
def raw_sql() -> RawSql:
    """``raw_sql(url, sql, **params)``: run SQL behind the store's back (to tamper with it)."""
    return _raw_sql


def _race(url: str, argvs: list[list[str]]) -> list[str]:
    worker = Path(__file__).with_name("race_worker.py")
    procs = [
        subprocess.Popen(
            [sys.executable, str(worker), argv[0], url, *argv[1:]],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in argvs
    ]
    try:
        for proc in procs:  # a barrier: every worker has opened the store
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            assert line == "ready", proc.communicate(timeout=10)
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            results.append(out.strip())
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()


Race = Callable[[str, list[list[str]]], list[str]]


@pytest.fixture
def race() -> Race:
    """``race(url, [[mode, *args], ...])``: run workers in separate processes, all at once."""
    return _race
