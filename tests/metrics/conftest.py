"""Fixtures of the metrics suite: a store with the records mixin, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.metrics.history import Clock, History, RecordsStore, open_records


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL for an empty store: a SQLite file in tmp_path, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[RecordsStore]:
    """An open, migrated store that can write the records metrics read."""
    records = open_records(store_url)
    yield records
    records.close()


@pytest.fixture
def engine(store: RecordsStore) -> Engine:
    """The store's SQLAlchemy engine (what the metrics functions are given)."""
    return store._engine


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def history(store_url: str, clock: Clock) -> Iterator[History]:
    """A store on ``clock`` and a writer of runs into it."""
    records = open_records(store_url, clock)
    yield History(records, clock)
    records.close()
