"""Team mode on the command line: ``worker``, ``workers``, and ``deploy|rollback --queue``.

Parse, call ``releasegate.service`` (``queue``, ``jobs``) or run the worker adapter,
present, exit code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from releasegate.cli.context import Globals, globals_of
from releasegate.cli.exit_codes import Exit

if TYPE_CHECKING:
    from releasegate.service.queue import QueuedRecord


def _db_url(g: Globals) -> str:
    from releasegate.errors import UsageError

    if not g.db_url:
        raise UsageError(
            "a worker needs the store on PostgreSQL: set RELEASEGATE_DATABASE_URL="
            "postgresql://USER@HOST/DB (or --db)"
        )
    return g.db_url


def register(app: typer.Typer) -> None:
    @app.command()
    def worker(
        ctx: typer.Context,
        queue: Annotated[
            list[str] | None,
            typer.Option("--queue", help="Take jobs from this queue only (repeatable; default: all)."),
        ] = None,
        concurrency: Annotated[
            int, typer.Option("--concurrency", min=1, help="Deployments run at once.")
        ] = 1,
        lease: Annotated[
            float, typer.Option("--lease", min=1.0, help="Lease time of a deployment's environment, seconds.")
        ] = 30.0,
        heartbeat: Annotated[
            float, typer.Option("--heartbeat", min=0.2, help="Seconds between the worker's heartbeats.")
        ] = 5.0,
        stalled_after: Annotated[
            float,
            typer.Option("--stalled-after", min=1.0,
                         help="A worker silent this long (seconds) is dead: its jobs are resumed elsewhere."),
        ] = 15.0,
        cache: Annotated[
            Path | None,
            typer.Option("--cache", help="Where repositories are cloned and worktrees made "
                         "(default ~/.cache/releasegate/worker)."),
        ] = None,
    ) -> int:
        """Run queued deployments from the store's PostgreSQL until SIGTERM (team mode)."""
        from releasegate.worker.run import Options, run

        g = globals_of(ctx)
        options = Options(
            db_url=_db_url(g), queues=tuple(queue or ()), concurrency=concurrency,
            lease_ttl_s=lease, heartbeat_s=heartbeat, stalled_after_s=stalled_after,
            recover_every_s=max(1, int(min(heartbeat, stalled_after / 3))),
            **({"cache": cache} if cache is not None else {}),
        )
        return run(options)

    @app.command()
    def workers(ctx: typer.Context) -> int:
        """Live workers, their heartbeats and jobs, and the queued deployments."""
        from releasegate.service import jobs, queue

        g = globals_of(ctx)
        found = jobs.list_workers(_db_url(g))
        waiting = [q.to_json() for q in queue.listing(g.workspace)]
        if g.json:
            print(json.dumps({"workers": found, "queued": waiting}))
            return Exit.OK
        if not found:
            print("no live worker")
        for w in found:
            running = ", ".join(f"q{j['queued']} (job {j['job']})" for j in w["jobs"]) or "idle"
            print(f"worker {w['worker']}: heartbeat {w['heartbeat_age_s']}s ago; {running}")
        for q in waiting:
            print(queued_line(q))
        return Exit.OK


def queued_line(q: Mapping[str, object]) -> str:
    dep = f", deployment {q['deployment_id']}" if q.get("deployment_id") else ""
    why = f" — {q['waiting']}" if q.get("waiting") else ""
    where = f" on {q['worker']}" if q.get("worker") and q.get("status") == "running" else ""
    until = q.get("not_after")
    expires = (f"; expires at {str(until)[:16].replace('T', ' ')} UTC"
               if until and q.get("status") == "waiting" else "")
    return (f"q{q['id']} {q['action']} {q['environment']} {q['version'] or ''}: "
            f"{q['status']}{where}{dep}{why}{expires}")


def queued_now(g: Globals, env: str | None) -> list[QueuedRecord]:
    """The queued deployments that have not ended (of ``env``), for ``status``: none when
    the store predates team mode or does not exist yet."""
    from releasegate.errors import ReleasegateError
    from releasegate.service import queue

    try:
        found = queue.listing(g.workspace)
    except ReleasegateError:
        return []
    return [q for q in found if env is None or q.environment == env]


def parse_until(text: str | None) -> datetime | None:
    """``--until``: an ISO time, UTC unless it says otherwise."""
    if text is None:
        return None
    from releasegate.errors import UsageError

    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--until {text!r}: give an ISO time, e.g. 2026-12-01T18:00Z") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def queued(g: Globals, request: object, *, wait: bool) -> int:
    """``deploy|rollback --queue``: queue, print the id; with ``--wait``, follow to the end."""
    from rich.console import Console

    from releasegate.cli.deploy_impl import EXIT_FOR
    from releasegate.service import queue

    record = queue.enqueue(g.workspace, g.actor, request)  # type: ignore[arg-type]
    if g.json:
        print(json.dumps({"queued": record.to_json()}), flush=True)
    else:
        print(queued_line(record.to_json()), flush=True)
    if not wait:
        return Exit.OK
    err = Console(stderr=True, highlight=False)

    def show(type: str, data: dict[str, object]) -> None:
        if g.json:
            print(json.dumps({"event": type, "data": data}, default=str), flush=True)
        elif type == "step.finished" or type.startswith(("deployment.", "rollback.")):
            step = data.get("step") or data.get("status") or ""
            err.print(f"{type} {step} {data.get('summary') or data.get('detail') or ''}".rstrip(),
                      markup=False)

    outcome = queue.follow(g.workspace, record.id, on_event=show)
    if g.json:
        print(json.dumps({"outcome": outcome.to_json()}), flush=True)
    else:
        print(f"deployment {outcome.deployment_id}: {outcome.status} {outcome.detail}".rstrip())
    return int(EXIT_FOR.get(outcome.status, Exit.FAILED))
