"""What every command receives from the global options, and the helpers to act on it."""

from __future__ import annotations

import contextlib
import getpass
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from releasegate.config.models import Config
    from releasegate.store.api import Store

DEFAULT_CONFIG = "releasegate.yaml"


@dataclass(frozen=True)
class Globals:
    """The global options, resolved: ``-c``, ``--db``, ``--as``, ``--json``."""

    config_path: Path
    db_url: str | None
    user: str
    json: bool

    @classmethod
    def from_options(
        cls, *, config: str | None, db: str | None, as_user: str | None, json: bool
    ) -> Globals:
        user = as_user or os.environ.get("RELEASEGATE_USER") or _os_user()
        return cls(
            config_path=Path(config or DEFAULT_CONFIG),
            db_url=db or os.environ.get("RELEASEGATE_DATABASE_URL") or None,
            user=user,
            json=json,
        )

    @property
    def state_dir(self) -> Path:
        """``.releasegate/`` beside the config file."""
        return self.config_path.resolve().parent / ".releasegate"

    @property
    def database_url(self) -> str:
        if self.db_url:
            return self.db_url
        return f"sqlite:///{self.state_dir / 'state.db'}"

    def load_config(self) -> Config:
        from releasegate.config.loader import load_config

        return load_config(self.config_path)

    def open_store(self) -> Store:
        from releasegate.store.api import open_store

        store = open_store(self.database_url)
        if not self.db_url:  # the default SQLite store: keep .releasegate/ out of git's way
            ignore = self.state_dir / ".gitignore"
            if not ignore.exists():
                with contextlib.suppress(OSError):
                    ignore.write_text("# releasegate's state: not part of the project\n*\n")
        return store


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"


def globals_of(ctx: object) -> Globals:
    """The :class:`Globals` the root callback stored on the click context."""
    find_object = getattr(ctx, "find_object", None)
    found = find_object(Globals) if callable(find_object) else None
    if found is None:  # a command invoked without the root callback (tests calling directly)
        found = Globals.from_options(config=None, db=None, as_user=None, json=False)
    return found
