"""``releasegate metrics``, ``report``, ``defect add`` and ``backups list|prune``: thin
wrappers over :mod:`releasegate.service.metrics` that parse and present."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from releasegate.cli.context import globals_of
from releasegate.cli.exit_codes import Exit

if TYPE_CHECKING:
    from releasegate.metrics.model import MetricsReport

ProjectOption = Annotated[
    str | None, typer.Option("--project", help="A project in the store, or all (default: the config's).")
]
EnvOption = Annotated[
    str | None, typer.Option("--env", help="An environment, or all (default: production).")
]
SinceOption = Annotated[
    str, typer.Option("--since", help="How far back (90d, 12w) or an ISO 8601 time.")
]
UntilOption = Annotated[
    str | None, typer.Option("--until", help="End of the period (default: now): ISO 8601 or a duration back.")
]


def register(app: typer.Typer) -> None:
    @app.command()
    def metrics(
        ctx: typer.Context, project: ProjectOption = None, env: EnvOption = None,
        since: SinceOption = "90d", until: UntilOption = None,
    ) -> int:
        """DORA metrics and the checklist's targets, from the recorded deployments."""
        from releasegate.service import metrics as service

        g = globals_of(ctx)
        where = service.scope(g.workspace, project=project, env=env, since=since, until=until)
        report = service.metrics(g.workspace, g.actor, where)
        print(json.dumps(report.to_json(), indent=2) if g.json else metrics_table(report))
        return Exit.OK

    @app.command()
    def report(
        ctx: typer.Context, project: ProjectOption = None, env: EnvOption = None,
        since: SinceOption = "90d", until: UntilOption = None,
        out: Annotated[Path | None, typer.Option("--out", help="Directory for the report (default: reports/).")] = None,
    ) -> int:
        """Write a self-contained HTML report: the figures against their targets, with charts."""
        from releasegate.service import metrics as service

        g = globals_of(ctx)
        where = service.scope(g.workspace, project=project, env=env, since=since, until=until)
        path = service.write_report(g.workspace, g.actor, where, out)
        print(json.dumps({"path": str(path)}) if g.json else f"report written to {path}")
        return Exit.OK

    defect = typer.Typer(help="What a deployment broke: bugs, security issues, regressions, complaints.",
                         no_args_is_help=True)

    @defect.command("add")
    def defect_add(
        ctx: typer.Context,
        id: Annotated[int, typer.Argument(help="The deployment that introduced it.")],
        kind: Annotated[str, typer.Option("--kind", help="bug, security, performance or complaint.")],
        note: Annotated[str, typer.Option("--note", help="What it is (a ticket, a sentence).")] = "",
    ) -> int:
        """Record a bug, security issue, performance regression or complaint against a deployment."""
        from releasegate.service import metrics as service

        g = globals_of(ctx)
        done = service.add_defect(g.workspace, g.actor, id, kind=kind, note=note)
        print(json.dumps(done.to_json()) if g.json else done.text)
        return Exit.OK

    app.add_typer(defect, name="defect")
    backups = typer.Typer(help="Backups and their retention (backups.keep_days, backups.archive).",
                          no_args_is_help=True)

    @backups.command("list")
    def backups_list(ctx: typer.Context) -> int:
        """Every backup still in place, whether it is good, and what a prune would do."""
        from releasegate.cli.backups_view import print_backups

        return print_backups(globals_of(ctx))

    @backups.command("prune")
    def backups_prune(
        ctx: typer.Context,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would go; touch nothing.")] = False,
    ) -> int:
        """Archive (or delete) backups older than backups.keep_days; never an environment's newest good one."""
        from releasegate.cli.backups_view import prune

        return prune(globals_of(ctx), dry_run=dry_run)

    app.add_typer(backups, name="backups")


def metrics_table(report: MetricsReport) -> str:
    """Each figure beside its target, its status and the DORA levels it falls in."""
    from releasegate.metrics import format as fmt

    scope = (f"{report.project or 'all projects'} · {report.environment or 'all environments'} · "
             f"{report.since:%Y-%m-%d %H:%M} to {report.until:%Y-%m-%d %H:%M} UTC")
    rows = [("figure", "value", "target", "status", "n", "DORA level")]
    for m in report.metrics.values():
        dora = m.extra.get("dora")
        levels = ", ".join(f"{v} ({k.removeprefix('State of DevOps ')})" for k, v in dora.items() if v) \
            if isinstance(dora, dict) else ""
        rows.append((fmt.TITLES.get(m.name, m.name), fmt.value(m), m.target or "—",
                     fmt.status(m), str(m.n), levels))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [scope, ""]
    for r in rows:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip())
    lines.append("")
    lines.append(f"A figure is graded from {report.min_n} observations on (metrics.min_n); "
                 "the terms are defined in docs/metrics.md.")
    return "\n".join(lines)
