"""``releasegate obligation list|close``: what an emergency deployment leaves to do
(close monitoring, a post-mortem) until someone closes it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from releasegate.cli.context import Globals, globals_of
from releasegate.cli.exit_codes import Exit


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Obligations an emergency deployment opens (monitoring, post-mortem).",
        no_args_is_help=True,
    )

    @group.command("list")
    def list_(
        ctx: typer.Context,
        all: Annotated[bool, typer.Option("--all", help="Closed ones too.")] = False,
    ) -> int:
        """List open obligations, soonest due first (overdue ones say so)."""
        return list_obligations(globals_of(ctx), include_closed=all)

    @group.command("close")
    def close(
        ctx: typer.Context,
        id: Annotated[int, typer.Argument(help="Obligation id.")],
        note: Annotated[str | None, typer.Option("--note", help="What was done.")] = None,
        postmortem: Annotated[
            Path | None, typer.Option("--postmortem", help="The post-mortem (a markdown file) to link.")
        ] = None,
    ) -> int:
        """Close an obligation, as yourself, with a note (recorded)."""
        from releasegate.service import calendar

        g = globals_of(ctx)
        done = calendar.close_obligation(g.workspace, g.actor, id, note=note, postmortem=postmortem)
        print(json.dumps(done.to_json()) if g.json else done.text)
        return Exit.OK

    app.add_typer(group, name="obligation")


def list_obligations(g: Globals, *, include_closed: bool) -> int:
    from releasegate.service import calendar

    now = datetime.now(UTC)
    rows = calendar.list_obligations(g.workspace, g.actor, include_closed=include_closed)
    if g.json:
        print(json.dumps([
            {"id": o.id, "deployment": o.deployment_id, "kind": o.kind, "text": o.text,
             "owner": o.owner, "due_at": o.due_at.isoformat(), "overdue": o.overdue(now),
             "closed_at": o.closed_at.isoformat() if o.closed_at else None, "note": o.close_note}
            for o in rows
        ], indent=2))
        return Exit.OK
    if not rows:
        print("no open obligations")
    for o in rows:
        state = "closed, was due" if o.closed_at else "OVERDUE" if o.overdue(now) else "due"
        owner = f" (owner {o.owner})" if o.owner else ""
        print(f"{o.id}  deployment {o.deployment_id}{owner}  {o.kind}: {o.text} — {state} "
              f"{o.due_at.astimezone(UTC):%Y-%m-%d %H:%M UTC}")
    return Exit.OK
