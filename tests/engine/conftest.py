from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from releasegate.config.models import Config
from releasegate.engine.api import Engine
from releasegate.engine.report import ListReporter
from releasegate.store.api import Store, open_store

from .fakes import PlainSecrets, fake_registry


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    yield s
    s.close()


@pytest.fixture
def live_file(tmp_path: Path) -> Path:
    return tmp_path / "live.txt"


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "steps.log"


def make_config(tmp_path: Path, **env: Any) -> Config:
    base: dict[str, Any] = {
        "target": {"uses": "fake-target", "with": {"file": str(tmp_path / "live.txt")}},
    }
    base.update(env)
    return Config.model_validate({"project": "t", "environments": {"staging": base}})


EngineFactory = Callable[..., tuple[Engine, ListReporter]]


@pytest.fixture
def make_engine(tmp_path: Path, store: Store) -> EngineFactory:
    def factory(config: Config, *, user: str = "alice", lease_ttl_s: float = 30.0) -> tuple[Engine, ListReporter]:
        reporter = ListReporter()
        engine = Engine(
            config,
            store,
            fake_registry(),
            workdir=tmp_path,
            state_dir=tmp_path / ".releasegate",
            secrets=PlainSecrets(),
            reporter=reporter,
            user=user,
            lease_ttl_s=lease_ttl_s,
            seed=1,
        )
        return engine, reporter

    return factory
