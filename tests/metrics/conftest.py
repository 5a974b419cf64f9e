"""Fixtures of the metrics suite: a store with the records mixin, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from releasegate.store.api import Store, open_store
from releasegate.store.facts_records import Records


class RecordsStore(Store, Records):
    """The store as it will be once the lead adds ``Records`` to ``Store``'s bases."""


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
    opened = open_store(store_url)
    records = RecordsStore(opened._engine, opened.url)
    yield records
    records.close()


@pytest.fixture
def engine(store: RecordsStore) -> Engine:
    """The store's SQLAlchemy engine (what the metrics functions are given)."""
    return store._engine
