"""What every command receives from the global options, and the helpers to act on it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from releasegate.identity import Actor
    from releasegate.service.workspace import Workspace

DEFAULT_CONFIG = "releasegate.yaml"
RUN_NO_STEP = frozenset({
    "history", "show", "status", "policy", "audit", "obligation", "freeze", "incident",
    "campaign", "approve", "confirm", "cancel", "metrics", "report", "defect", "backups",
    "token",
})
"""Commands that run no step: the config's drivers are not imported to check them."""
READ_ONLY = frozenset({"history", "show", "status", "policy", "metrics", "report"})
"""Commands that only read the store: it is neither created nor migrated for them."""


@dataclass
class Globals:
    """The global options, resolved: ``-c``, ``--db``, ``--as``, ``--json``."""

    config_path: Path
    db_url: str | None
    as_user: str | None
    json: bool
    check_drivers: bool = True
    read_only: bool = False
    _workspace: Workspace | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_options(
        cls, *, config: str | None, db: str | None, as_user: str | None, json: bool,
        command: str | None = None,
    ) -> Globals:
        return cls(
            config_path=Path(config or DEFAULT_CONFIG),
            db_url=db or os.environ.get("RELEASEGATE_DATABASE_URL") or None,
            as_user=as_user,
            json=json,
            check_drivers=command not in RUN_NO_STEP,
            read_only=command in READ_ONLY,
        )

    @property
    def workspace(self) -> Workspace:
        """The config and store the options name (opened on first use)."""
        if self._workspace is None:
            from releasegate.service.workspace import Workspace

            self._workspace = Workspace(
                self.config_path, self.db_url, check_drivers=self.check_drivers,
                read_only=self.read_only,
            )
        return self._workspace

    @property
    def actor(self) -> Actor:
        """Who runs the command, as the config's ``identity.mode`` establishes it."""
        return self.workspace.actor(requested=self.as_user)

    @property
    def state_dir(self) -> Path:
        return self.workspace.state_dir


def globals_of(ctx: object) -> Globals:
    """The :class:`Globals` the root callback stored on the click context."""
    find_object = getattr(ctx, "find_object", None)
    found = find_object(Globals) if callable(find_object) else None
    if found is None:  # a command invoked without the root callback (tests calling directly)
        found = Globals.from_options(config=None, db=None, as_user=None, json=False)
    return found
