"""``policy explain``: every rule that applies, allow or deny, and the next allowed time."""

from __future__ import annotations

from datetime import UTC, datetime

from releasegate.identity import Actor
from releasegate.service.gate import Request, Verdict, decide
from releasegate.service.inputs import check_environment, check_kind, check_version
from releasegate.service.workspace import Workspace


def parse_time(text: str, option: str) -> datetime:
    """An ISO 8601 time from user input; without an offset it is UTC."""
    from releasegate.errors import UsageError

    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{option}: {text!r} is not a time (write ISO 8601, e.g. 2026-11-10T10:00:00Z)"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def explain(
    ws: Workspace, actor: Actor, env: str, *, at: datetime | None = None,
    version: str | None = None, kind: str = "normal",
) -> Verdict:
    """What policy says about deploying ``version`` (any, if None) to ``env`` at ``at``."""
    check_environment(list(ws.config.environments), env)
    check_kind(kind)
    if version is not None:
        check_version(ws.config, version)
    return decide(ws.config, ws.store, actor, Request(env, version, kind), now=at)
