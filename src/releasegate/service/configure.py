"""The config itself: what ``validate`` advises beyond the errors that stop it."""

from __future__ import annotations

from releasegate.errors import Problem
from releasegate.service.workspace import Workspace


def warnings(ws: Workspace) -> list[Problem]:
    """Advice about the workspace's config, located (it loads; these should be fixed)."""
    from releasegate.config.warnings import config_warnings

    return config_warnings(ws.config, ws.config_path)
