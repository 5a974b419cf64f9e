"""The environment's target outside a deployment: start the recorded live version (after a
reboot), stop it, ask how it is."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from releasegate.errors import UsageError
from releasegate.identity import Actor
from releasegate.service.auth import authorize
from releasegate.service.inputs import check_environment
from releasegate.service.results import Done
from releasegate.service.workspace import Workspace


async def _awaited(call: Awaitable[object]) -> object:
    return await call


def _call(ws: Workspace, actor: Actor, env: str, method: str) -> object:
    check_environment(list(ws.config.environments), env)
    call = ws.engine(actor).target_call(env, method)
    if call is None:
        raise UsageError(f"the target of {env} cannot {method} (or {env} has no target)")
    return asyncio.run(_awaited(call))


def start(ws: Workspace, actor: Actor, env: str) -> Done:
    """Bring back the recorded live version of ``env`` without a deployment (recorded)."""
    authorize(ws.config, actor, "deploy")
    check_environment(list(ws.config.environments), env)
    live = ws.store.live_version(env)
    if live is None:
        raise UsageError(f"nothing is recorded live in {env}: deploy it (or adopt what runs)")
    result = _call(ws, actor, env, "deploy")
    ok = bool(getattr(result, "ok", False))
    summary = str(getattr(result, "summary", ""))
    ws.store.append_event(
        "target.started",
        {"environment": env, "version": live, "ok": ok, "summary": summary, "actor": actor.to_json()},
    )
    if not ok:
        raise UsageError(f"{env}: starting {live} failed: {summary}")
    return Done(None, f"{env}: {live} started ({summary})", {"environment": env, "version": live})


def stop(ws: Workspace, actor: Actor, env: str) -> Done:
    """Stop ``env``'s target (its supervisor and versions); the record is unchanged."""
    authorize(ws.config, actor, "deploy")
    _call(ws, actor, env, "stop")
    ws.store.append_event("target.stopped", {"environment": env, "actor": actor.to_json()})
    return Done(None, f"{env}: stopped", {"environment": env})
