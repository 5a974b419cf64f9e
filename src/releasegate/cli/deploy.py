"""Deployment commands: plan, check, deploy, rollback, resume, cancel, status, history,
show, confirm, demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from releasegate.cli.context import globals_of

KindOption = Annotated[
    str, typer.Option("--kind", help="normal, major, hotfix or rollback.")
]
QueueOption = Annotated[
    bool, typer.Option("--queue", help="Queue it for a worker and return its id at once (team mode).")
]
QueueNameOption = Annotated[
    str, typer.Option("--queue-name", help="With --queue: the queue (default deployments).")
]
WaitOption = Annotated[
    bool, typer.Option("--wait", help="With --queue: follow it to the end; exit with its exit code.")
]
FlagOption = Annotated[
    list[str] | None,
    typer.Option("--flag", help="Set flags.NAME for the steps' if: expressions (repeatable)."),
]
JunitOption = Annotated[
    str | None,
    typer.Option("--junit", help="Also write the steps as JUnit XML to this file (GitLab, Jenkins, ...)."),
]
GithubOption = Annotated[
    bool | None,
    typer.Option(
        "--github-summary/--no-github-summary",
        help="Write the filled-in checklist to $GITHUB_STEP_SUMMARY and failed steps as ::error "
        "annotations (default: when GITHUB_ACTIONS is true).",
    ),
]


def register(app: typer.Typer) -> None:
    @app.command()
    def plan(
        ctx: typer.Context,
        env: Annotated[str, typer.Argument(help="The environment.")],
        version: Annotated[str | None, typer.Argument(help="The version to deploy.")] = None,
        kind: KindOption = "normal",
        flag: FlagOption = None,
    ) -> int:
        """Print what a deployment would do, as a tree: the dry run. Runs nothing."""
        from releasegate.cli import deploy_impl

        return deploy_impl.plan(globals_of(ctx), env, version, kind=kind, flags=flag or [])

    @app.command()
    def check(
        ctx: typer.Context,
        env: Annotated[str, typer.Argument(help="The environment.")],
        version: Annotated[str, typer.Argument(help="The version.")],
        kind: KindOption = "normal",
        flag: FlagOption = None,
        junit: JunitOption = None,
        github_summary: GithubOption = None,
    ) -> int:
        """Run the policy and the gates only; nothing is deployed."""
        from releasegate.cli import deploy_impl
        from releasegate.cli.ci_view import CiOutputs

        ci = CiOutputs(junit=Path(junit) if junit else None, github=github_summary)
        return deploy_impl.check(globals_of(ctx), env, version, kind=kind, flags=flag or [], ci=ci)

    @app.command()
    def deploy(
        ctx: typer.Context,
        env: Annotated[str, typer.Argument(help="The environment.")],
        version: Annotated[str, typer.Argument(help="The version to deploy.")],
        kind: KindOption = "normal",
        emergency: Annotated[
            bool, typer.Option("--emergency", help="The hotfix path (needs --reason).")
        ] = False,
        reason: Annotated[str | None, typer.Option("--reason", help="Why.")] = None,
        override_freeze: Annotated[
            bool, typer.Option("--override-freeze", help="Emergency through a hard freeze (admin).")
        ] = False,
        override: Annotated[
            list[str] | None,
            typer.Option(
                "--override",
                help="Break-glass: go past this policy rule (e.g. window, freeze:peaks; "
                "repeatable; needs --reason and a role in overrides.roles).",
            ),
        ] = None,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask to confirm.")] = False,
        flag: FlagOption = None,
        fixes: Annotated[
            int | None,
            typer.Option("--fixes", help="The earlier deployment this hotfix repairs (linked as a failure)."),
        ] = None,
        junit: JunitOption = None,
        github_summary: GithubOption = None,
        queue: QueueOption = False,
        queue_name: QueueNameOption = "deployments",
        wait: WaitOption = False,
        when_allowed: Annotated[
            bool, typer.Option("--when-allowed", help="Queue it to start by itself once policy allows it.")
        ] = False,
        until: Annotated[
            str | None, typer.Option("--until", help="With --when-allowed: expire at this ISO time.")
        ] = None,
    ) -> int:
        """Deploy VERSION to ENV: gates, deploy steps, verification, rollback on failure."""
        from releasegate.cli import deploy_impl
        from releasegate.cli.ci_view import CiOutputs

        if queue or when_allowed:
            from releasegate.cli.worker import parse_until, queued
            from releasegate.errors import UsageError
            from releasegate.service.queue import Request

            if junit:
                raise UsageError("--junit writes the steps of a deployment run here; with --queue "
                                 "a worker runs it (follow it with --wait, read it with show)")
            return queued(globals_of(ctx), Request(
                "deploy", env, version, kind=kind, reason=reason, emergency=emergency,
                flags=tuple(flag or ()), overrides=tuple(override or ()), fixes=fixes,
                queue=queue_name, when_allowed=when_allowed, until=parse_until(until),
            ), wait=wait)

        return deploy_impl.deploy(
            globals_of(ctx),
            env,
            version,
            kind=kind,
            emergency=emergency,
            reason=reason,
            override_freeze=override_freeze,
            overrides=override or [],
            yes=yes,
            flags=flag or [],
            fixes=fixes,
            ci=CiOutputs(junit=Path(junit) if junit else None, github=github_summary),
        )

    @app.command()
    def rollback(
        ctx: typer.Context,
        env: Annotated[str, typer.Argument(help="The environment.")],
        to: Annotated[
            str | None, typer.Option("--to", help="Version (default: previous successful).")
        ] = None,
        reason: Annotated[str | None, typer.Option("--reason", help="Why.")] = None,
        queue: QueueOption = False,
        queue_name: QueueNameOption = "deployments",
        wait: WaitOption = False,
    ) -> int:
        """Roll ENV back to the previous successful version (migration-aware)."""
        from releasegate.cli import deploy_impl

        if queue:
            from releasegate.cli.worker import queued
            from releasegate.service.queue import Request

            return queued(globals_of(ctx), Request(
                "rollback", env, to, kind="rollback", reason=reason, queue=queue_name,
            ), wait=wait)

        return deploy_impl.rollback(globals_of(ctx), env, to=to, reason=reason)

    @app.command()
    def adopt(
        ctx: typer.Context,
        env: Annotated[str, typer.Argument(help="The environment.")],
        version: Annotated[str, typer.Argument(help="The version that is live there now.")],
        reason: Annotated[str | None, typer.Option("--reason", help="Why (recorded).")] = None,
    ) -> int:
        """Record the version that was live before releasegate took over (nothing is run)."""
        from releasegate.cli import deploy_impl

        return deploy_impl.adopt(globals_of(ctx), env, version, reason=reason)

    @app.command()
    def resume(
        ctx: typer.Context,
        id: Annotated[int | None, typer.Argument(help="Deployment id (default: the latest).")] = None,
    ) -> int:
        """Continue an interrupted deployment, or roll it back if that is safer."""
        from releasegate.cli import deploy_impl

        return deploy_impl.resume(globals_of(ctx), id)

    @app.command()
    def cancel(
        ctx: typer.Context,
        id: Annotated[str, typer.Argument(
            help="Deployment id, or qN: a queued deployment no worker has started (team mode).")],
    ) -> int:
        """Cancel a waiting deployment, or a queued one before a worker starts it."""
        from releasegate.cli import records_view

        return records_view.cancel_deployment(globals_of(ctx), id)

    @app.command()
    def status(
        ctx: typer.Context,
        env: Annotated[str | None, typer.Argument(help="Only this environment.")] = None,
    ) -> int:
        """What is live where, what is running, locks, open obligations."""
        from releasegate.cli import records_view

        return records_view.print_status(globals_of(ctx), env)

    @app.command()
    def history(
        ctx: typer.Context,
        env: Annotated[str | None, typer.Argument(help="Only this environment.")] = None,
        limit: Annotated[int, typer.Option("--limit", help="How many.")] = 20,
    ) -> int:
        """Past deployments, newest first."""
        from releasegate.cli import records_view

        return records_view.print_history(globals_of(ctx), env, limit=limit)

    @app.command()
    def show(
        ctx: typer.Context,
        id: Annotated[int, typer.Argument(help="Deployment id.")],
        format: Annotated[
            str, typer.Option("--format", help="text, md or json.")
        ] = "text",
        announcement: Annotated[
            bool, typer.Option("--announcement", help="The checklist's deployment announcement instead.")
        ] = False,
        chart: Annotated[
            str | None,
            typer.Option("--chart", help="Also plot its verification samples to this .svg or .png."),
        ] = None,
    ) -> int:
        """A deployment as a filled-in checklist, each item with its evidence."""
        from releasegate.cli import show_view

        if announcement:
            return show_view.show_announcement(globals_of(ctx), id)
        return show_view.show_deployment(globals_of(ctx), id, fmt=format, chart=chart)

    @app.command()
    def confirm(
        ctx: typer.Context,
        id: Annotated[int, typer.Argument(help="Deployment id.")],
        item: Annotated[str, typer.Argument(help="Checklist item (confirmation id).")],
        note: Annotated[str | None, typer.Option("--note", help="A note to record.")] = None,
    ) -> int:
        """Sign a checklist item for a deployment, as yourself."""
        from releasegate.cli import records_view

        return records_view.confirm_item(globals_of(ctx), id, item, note=note)

    @app.command()
    def demo(
        keep: Annotated[bool, typer.Option("--keep", help="Leave the demo services up.")] = False,
    ) -> int:
        """Tell the checklist's story end to end on the example service."""
        from releasegate.demo import story as demo_impl

        return demo_impl.demo(keep=keep)
