"""status, history, cancel, confirm: reading and signing recorded deployments."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from releasegate.cli.context import Globals
from releasegate.cli.exit_codes import Exit
from releasegate.errors import ReleasegateError, UsageError

if TYPE_CHECKING:
    from releasegate.engine.api import Engine
    from releasegate.store.api import Store

ACTIVE = ("pending", "running", "rolling_back", "interrupted")


def _when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "—"


def _took(start: datetime | None, end: datetime | None) -> str:
    if not start or not end:
        return "—"
    return f"{(end - start).total_seconds():.1f}s"


def print_history(g: Globals, env: str | None, *, limit: int) -> int:
    store = g.open_store()
    deps = store.list_deployments(environment=env, limit=limit)
    if g.json:
        print(json.dumps([
            {
                "id": d.id, "environment": d.environment, "version": d.version, "kind": d.kind,
                "status": d.status, "user": d.user, "created_at": d.created_at.isoformat(),
                "finished_at": d.finished_at.isoformat() if d.finished_at else None,
                "detail": d.detail,
            }
            for d in deps
        ], indent=2))
        return Exit.OK
    console = Console()
    if not console.is_terminal:  # logs and pipes: one tab-separated line per deployment
        for d in deps:
            print("\t".join([
                str(d.id), d.environment, d.version, d.kind, d.status, d.user,
                _when(d.started_at or d.created_at), _took(d.started_at, d.finished_at),
                d.detail or "",
            ]))
        return Exit.OK
    table = Table(title=f"deployments{' to ' + env if env else ''}")
    for col in ("id", "env", "version", "kind", "status", "by", "started", "took"):
        table.add_column(col, no_wrap=True)
    table.add_column("detail", no_wrap=True, overflow="ellipsis", max_width=60)
    for d in deps:
        table.add_row(
            str(d.id), d.environment, d.version, d.kind, d.status, d.user,
            _when(d.started_at or d.created_at), _took(d.started_at, d.finished_at),
            d.detail or "",
        )
    console.print(table)
    return Exit.OK


def _target_status(engine: Engine, env: str) -> str:
    """What the environment's target says about itself (the local supervisor: pid, uptime)."""
    import asyncio

    call = engine.target_call(env, "status")
    if call is None:
        return ""
    try:
        found = asyncio.run(_awaited(call))
    except ReleasegateError as exc:
        return f"target: {exc}"
    if found is None:
        return "target: not running"
    parts = [
        f"{name} {getattr(found, name)}"
        for name in ("pid", "version", "address", "maintenance")
        if getattr(found, name, None) not in (None, "")
    ]
    uptime = getattr(found, "uptime_s", None)
    if isinstance(uptime, int | float):
        parts.append(f"up {uptime:.0f}s")
    return "target: " + ", ".join(parts)


async def _awaited(call: Awaitable[object]) -> object:
    return await call


def _attention(store: Store, env: str) -> str | None:
    """A deployment that failed after changing the environment and was not rolled back:
    what is live may not be what the record's last success says."""
    for dep in store.list_deployments(environment=env, limit=20):
        if dep.status == "succeeded" or dep.status == "rolled_back":
            return None
        if dep.status in ("failed", "rollback_failed"):
            changed = any(
                r.phase == "deploy" and r.status in ("succeeded", "warned")
                for r in store.list_step_runs(dep.id)
            )
            if changed:
                return (
                    f"deployment {dep.id} ({dep.version}) {dep.status} after changing "
                    f"{env} and was not rolled back: a person must act "
                    f"(releasegate show {dep.id}; releasegate rollback {env})"
                )
    return None


def print_status(g: Globals, env: str | None) -> int:
    from releasegate.cli.deploy_impl import build_engine

    engine = build_engine(g)
    config = engine.config
    store = engine.store
    envs = [env] if env else list(config.environments)
    rows = []
    for name in envs:
        if name not in config.environments:
            raise UsageError(f"no environment named {name!r} (known: {', '.join(config.environments)})")
        lock = store.get_lock(name)
        running = [d for d in store.list_deployments(environment=name, limit=20) if d.status in ACTIVE]
        rows.append({
            "attention": _attention(store, name),
            "environment": name,
            "live_version": store.live_version(name),
            "locked_by": None if lock is None else f"deployment {lock.deployment_id} ({lock.holder})",
            "running": [f"{d.id} {d.version} {d.status}" for d in running],
            "target": _target_status(engine, name),
        })
    obligations = [
        {"id": o.id, "deployment": o.deployment_id, "kind": o.kind, "text": o.text, "due": o.due_at.isoformat()}
        for o in store.list_obligations(open_only=True)
    ]
    if g.json:
        print(json.dumps({"environments": rows, "obligations": obligations}, indent=2))
        return Exit.OK
    table = Table(title="environments")
    for col in ("environment", "live", "lock", "in progress", "target"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r["environment"]), str(r["live_version"] or "—"), str(r["locked_by"] or "free"),
            ", ".join(r["running"]) if isinstance(r["running"], list) else "",
            str(r["target"]),
        )
    console = Console()
    console.print(table)
    for r in rows:
        if r["attention"]:
            console.print(f"attention: {r['attention']}", style="bold red", highlight=False, markup=False)
    if obligations:
        ob = Table(title="open obligations")
        for col in ("id", "deployment", "kind", "due", "what"):
            ob.add_column(col)
        for o in obligations:
            ob.add_row(str(o["id"]), str(o["deployment"]), str(o["kind"]), str(o["due"]), str(o["text"]))
        console.print(ob)
    return Exit.OK


def cancel_deployment(g: Globals, id: int) -> int:
    store = g.open_store()
    dep = store.get_deployment(id)
    if dep is None:
        raise UsageError(f"there is no deployment {id}")
    if dep.status not in ACTIVE:
        raise UsageError(f"deployment {id} has already finished ({dep.status})")
    if dep.plan.get("check") and dep.status == "running":
        raise UsageError(f"deployment {id} is a running check: press Ctrl-C in its terminal")
    lock = store.get_lock(dep.environment)
    if dep.status != "pending" and lock is not None and lock.deployment_id == id:
        raise UsageError(
            f"deployment {id} is running ({lock.holder}): press Ctrl-C in its terminal, "
            "or, if that process is gone, run 'releasegate resume' to finish or roll it back"
        )
    store.set_deployment_status(id, "cancelled", detail=f"cancelled by {g.user}")
    print(f"deployment {id} cancelled")
    return Exit.OK


def confirm_item(g: Globals, id: int, item: str, *, note: str | None) -> int:
    config = g.load_config()
    store = g.open_store()
    dep = store.get_deployment(id)
    if dep is None:
        raise UsageError(f"there is no deployment {id}")
    conf = next((c for c in config.confirmations if c.id == item), None)
    if conf is None:
        from releasegate.config.timespec import did_you_mean

        raise UsageError(
            f"{item!r} is not a confirmation of this config"
            f"{did_you_mean(item, [c.id for c in config.confirmations])}"
        )
    if conf.environments and dep.environment not in conf.environments:
        raise UsageError(
            f"{item!r} applies to {', '.join(conf.environments)}, not to {dep.environment} "
            f"(deployment {id})"
        )
    roles = config.roles_of(g.user)
    if conf.by and not roles & set(conf.by):
        raise UsageError(
            f"{g.user} may not sign {item!r}: it needs one of the roles {', '.join(conf.by)} "
            f"({g.user} holds {', '.join(sorted(roles)) or 'none'})"
        )
    if any(c.item == item for c in store.list_confirmations(id)):
        raise UsageError(f"{item!r} is already signed for deployment {id}")
    store.add_confirmation(deployment_id=id, item=item, user=g.user, note=note)
    print(f"{item} signed by {g.user} for deployment {id}")
    return Exit.OK
