"""status, history, cancel, confirm: presenting the record (``service.records``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from releasegate.cli.context import Globals
from releasegate.cli.exit_codes import Exit
from releasegate.cli.terminal import stdout_is_terminal
from releasegate.service import records


def _when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "—"


def _took(start: datetime | None, end: datetime | None) -> str:
    if not start or not end:
        return "—"
    return f"{(end - start).total_seconds():.1f}s"


def print_history(g: Globals, env: str | None, *, limit: int) -> int:
    deps = records.history(g.workspace, g.actor, env, limit=limit)
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
    if not deps:
        print(f"no deployments{' to ' + env if env else ''} recorded yet")
        return Exit.OK
    if not stdout_is_terminal():  # logs and pipes: one tab-separated line per deployment
        for d in deps:
            print("\t".join([
                str(d.id), d.environment, d.version, d.kind, d.status, d.user,
                _when(d.started_at or d.created_at), _took(d.started_at, d.finished_at),
                d.detail or "",
            ]))
        return Exit.OK
    from rich.console import Console
    from rich.table import Table

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
    Console().print(table)
    return Exit.OK


def print_status(g: Globals, env: str | None) -> int:
    from rich.console import Console
    from rich.table import Table

    from releasegate.cli.worker import queued_line, queued_now

    found = records.status(g.workspace, g.actor, env)
    waiting = queued_now(g, env)
    if g.json:
        print(json.dumps({**found.to_json(), "queued": [q.to_json() for q in waiting]}, indent=2))
        return Exit.OK
    table = Table(title="environments")
    for col in ("environment", "live", "lock", "in progress", "target"):
        table.add_column(col)
    for r in found.environments:
        table.add_row(
            r.environment, r.live_version or "—", r.locked_by or "free",
            ", ".join(r.running), r.target,
        )
    console = Console()
    console.print(table)
    for r in found.environments:
        if r.attention:
            console.print(f"attention: {r.attention}", style="bold red", highlight=False, markup=False)
        for line in r.overrides:
            console.print(f"override: {line}", style="yellow", highlight=False, markup=False)
    if found.obligations:
        ob = Table(title="open obligations")
        for col in ("id", "deployment", "kind", "due", "what"):
            ob.add_column(col)
        for o in found.obligations:
            due = str(o["due"]) + (" (OVERDUE)" if o["overdue"] else "")
            ob.add_row(str(o["id"]), str(o["deployment"]), str(o["kind"]), due, str(o["text"]))
        console.print(ob)
    for q in waiting:
        console.print(f"queued: {queued_line(q.to_json())}", highlight=False, markup=False)
    return Exit.OK


def cancel_deployment(g: Globals, id: str) -> int:
    """``cancel 12`` (a deployment) or ``cancel q12`` (a queued deployment)."""
    from releasegate.errors import UsageError
    from releasegate.service import deployments

    text = id.strip()
    queued = text[:1] in ("q", "Q")
    number = text[1:] if queued else text
    if not number.isdigit():
        raise UsageError(f"cancel {id!r}: give a deployment id (12) or a queued deployment (q12)")
    if queued:
        return _cancel_queued(g, int(number))
    outcome = deployments.cancel(g.workspace, g.actor, int(number))
    print(json.dumps(outcome.to_json()) if g.json else f"deployment {number} cancelled")
    return Exit.OK


def _cancel_queued(g: Globals, id: int) -> int:
    from releasegate.service import queue_cancel

    done = queue_cancel.cancel(g.workspace, g.actor, id)
    r = done.record
    print(json.dumps(done.to_json()) if g.json else
          f"q{id} {r.action} {r.environment} {r.version}: cancelled; it will not run".replace("  ", " "))
    return Exit.OK


def confirm_item(g: Globals, id: int, item: str, *, note: str | None) -> int:
    from releasegate.service import signoffs
    from releasegate.service.signing import local_signer

    done = signoffs.confirm(g.workspace, g.actor, id, item, note=note, signer=local_signer())
    print(json.dumps(done.to_json()) if g.json else done.text)
    return Exit.OK
