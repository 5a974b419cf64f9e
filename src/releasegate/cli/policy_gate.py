"""The policy check the deployment commands run before anything is recorded or run."""

from __future__ import annotations

from releasegate.cli.context import Globals
from releasegate.engine.api import Engine
from releasegate.engine.plan import Plan


def enforce_policy(
    g: Globals, engine: Engine, plan: Plan, *, emergency: bool, override_freeze: bool
) -> None:
    """Raise PolicyDenied (exit 3, with the explanation) when policy refuses ``plan`` now."""
    return None


def open_obligations(engine: Engine, deployment_id: int) -> None:
    """After an emergency deployment: close monitoring and a post-mortem, with deadlines."""
    return None
