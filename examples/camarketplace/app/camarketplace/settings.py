"""Settings from the environment, read once when the app or a command starts."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from camarketplace.build import Build, find_manifest, load_build


@dataclass(frozen=True)
class Settings:
    """Everything the service needs to run; see the README for each variable."""

    build: Build
    database_url: str
    data_dir: Path
    redis_url: str | None
    secret: str
    auto_migrate: bool = False


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from ``environ`` (default: ``os.environ``)."""
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("CAMARKETPLACE_DATA_DIR") or Path.cwd() / "data").resolve()
    database_url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'camarketplace.db'}"
    return Settings(
        build=load_build(find_manifest(env)),
        database_url=database_url,
        data_dir=data_dir,
        redis_url=env.get("REDIS_URL") or None,
        # A fixed default keeps tokens valid across versions; set your own outside demos.
        secret=env.get("CAMARKETPLACE_SECRET") or "camarketplace-demo-signing-key",
        auto_migrate=env.get("CAMARKETPLACE_AUTO_MIGRATE", "") in {"1", "true", "yes"},
    )
