"""The environment's target outside a deployment: start the recorded live version (after a
reboot), stop it, restart it, ask how it is, and the systemd unit that starts it at boot."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import asdict, dataclass, field
from typing import Any

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
    """Bring back the recorded live version of ``env`` without a deployment (recorded).

    On a target that runs, the version's processes are replaced by fresh ones the way a
    deploy swaps them (the local target: without a failed request)."""
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


def restart(ws: Workspace, actor: Actor, env: str) -> Done:
    """Stop ``env``'s target and start the recorded live version again (both recorded).

    The supervisor itself is restarted (e.g. after an upgrade of releasegate): the port
    refuses connections for that moment. ``start`` on a running target replaces only the
    app's processes, without downtime."""
    authorize(ws.config, actor, "deploy")
    check_environment(list(ws.config.environments), env)
    if ws.store.live_version(env) is None:
        raise UsageError(f"nothing is recorded live in {env}: deploy it (or adopt what runs)")
    if _running(ws, actor, env):  # a stopped target (after a reboot) is only started
        stop(ws, actor, env)
    done = start(ws, actor, env)
    return Done(None, done.text.replace(" started ", " restarted ", 1), done.data)


def _running(ws: Workspace, actor: Actor, env: str) -> bool:
    """Whether the target runs; a target that cannot say is taken as running."""
    call = ws.engine(actor).target_call(env, "status")
    return call is None or asyncio.run(_awaited(call)) is not None


@dataclass(frozen=True)
class TargetStatus:
    """How ``env``'s target is, against the record."""

    environment: str
    running: bool
    serving: str | None
    """The version the target says it serves (None: nothing, or it cannot say)."""
    recorded: str | None
    """The version the record says is live."""
    mismatch: str | None
    """What differs between the two, said for a person to act on; None when they agree."""
    pid: int | None = None
    address: str | None = None
    uptime_s: float | None = None
    maintenance: bool = False
    workers: int = 0
    """Processes of the version served."""
    processes: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def text(self) -> str:
        lines = [f"{self.environment}: " + (
            f"serving {self.serving or 'nothing'} (supervisor pid {self.pid} on {self.address}, "
            f"up {self.uptime_s or 0:.0f}s{', in maintenance' if self.maintenance else ''})"
            if self.running else "not running"
        )]
        lines.append(f"  recorded live: {self.recorded or 'nothing'}")
        for proc in self.processes:
            cpus = proc.get("cpus")
            on = f" on CPUs {','.join(map(str, cpus))}" if isinstance(cpus, list) else ""
            lines.append(f"  pid {proc.get('pid')}: {proc.get('version')} {proc.get('state')}{on}")
        if self.mismatch:
            lines.append(f"  MISMATCH: {self.mismatch}")
        return "\n".join(lines)


def status(ws: Workspace, actor: Actor, env: str) -> TargetStatus:
    """What ``env``'s target runs (supervisor, version, pids, workers) against the record."""
    check_environment(list(ws.config.environments), env)
    engine = ws.engine(actor)
    recorded = ws.store.live_version(env)
    call = engine.target_call(env, "status")
    found: Any = None
    if call is not None:
        found = asyncio.run(_awaited(call))
        serving = getattr(found, "version", None) if found is not None else None
    else:
        current = engine.target_call(env, "current")
        if current is None:
            raise UsageError(f"the target of {env} cannot say what it runs (or {env} has no target)")
        serving = asyncio.run(_awaited(current))
    serving = serving if isinstance(serving, str) and serving else None
    running = found is not None if call is not None else serving is not None
    processes = [dict(p) for p in getattr(found, "processes", ())]
    return TargetStatus(
        environment=env,
        running=running,
        serving=serving,
        recorded=recorded,
        mismatch=_mismatch(env, running, serving, recorded),
        pid=getattr(found, "pid", None),
        address=getattr(found, "address", None),
        uptime_s=getattr(found, "uptime_s", None),
        maintenance=bool(getattr(found, "maintenance", False)),
        workers=sum(1 for p in processes if p.get("version") == serving and p.get("state") == "live"),
        processes=processes,
    )


def _mismatch(env: str, running: bool, serving: str | None, recorded: str | None) -> str | None:
    if serving == recorded:
        return None
    if recorded is None:
        return f"the target serves {serving} but nothing is recorded live in {env} (releasegate adopt)"
    if not running or serving is None:
        return (
            f"the record says {recorded} is live in {env} but the target serves nothing "
            f"(releasegate target start {env})"
        )
    return (
        f"the target serves {serving} but the record says {recorded} is live in {env}: something "
        "changed it outside releasegate (releasegate rollback, or deploy the version that should run)"
    )
