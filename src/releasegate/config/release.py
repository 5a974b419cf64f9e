"""What is being deployed: the :class:`Release` that ``if`` expressions and drivers see.

It lives below the drivers so that ``config/`` can evaluate conditions without importing
them; :mod:`releasegate.drivers.api` re-exports it for plugin authors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Release:
    """What is being deployed, as the ``if`` expressions and drivers see it."""

    environment: str
    version: str
    kind: str = "normal"
    previous_version: str | None = None
    commit: str | None = None
    changed_paths: tuple[str, ...] | None = ()
    """Paths changed since the live version's commit; None when that cannot be known."""
    flags: Mapping[str, bool] = field(default_factory=dict)
    emergency: bool = False
