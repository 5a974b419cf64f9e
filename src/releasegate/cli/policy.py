"""Policy commands: policy explain, approve, freeze, incident, campaign."""

from __future__ import annotations

from typing import Annotated

import typer

from releasegate.cli.context import globals_of


def register(app: typer.Typer) -> None:
    policy_app = typer.Typer(help="Deployment policy.", no_args_is_help=True)

    @policy_app.command()
    def explain(
        ctx: typer.Context,
        env: Annotated[str, typer.Argument(help="The environment.")],
        at: Annotated[str | None, typer.Option("--at", help="ISO time (default: now).")] = None,
        version: Annotated[str | None, typer.Option("--version", help="The version.")] = None,
        kind: Annotated[str, typer.Option("--kind", help="Release kind.")] = "normal",
    ) -> int:
        """Every rule that applies, allow or deny with the reason, and the next allowed time."""
        from releasegate.cli import policy_impl

        return policy_impl.explain(globals_of(ctx), env, at=at, version=version, kind=kind)

    app.add_typer(policy_app, name="policy")

    @app.command()
    def approve(
        ctx: typer.Context,
        env: Annotated[str, typer.Argument(help="The environment.")],
        version: Annotated[str, typer.Argument(help="The version approved.")],
        role: Annotated[str, typer.Option("--role", help="The role you sign as.")],
        note: Annotated[str | None, typer.Option("--note", help="A note.")] = None,
    ) -> int:
        """Sign an approval for VERSION in ENV in one of your roles."""
        from releasegate.cli import policy_impl

        return policy_impl.approve(globals_of(ctx), env, version, role=role, note=note)

    freeze = typer.Typer(help="Ad-hoc deployment freezes.", no_args_is_help=True)

    @freeze.command("add")
    def freeze_add(
        ctx: typer.Context,
        env: Annotated[str, typer.Option("--env", help="Environment (or 'all').")],
        start: Annotated[str, typer.Option("--from", help="ISO start time.")],
        end: Annotated[str, typer.Option("--to", help="ISO end time.")],
        reason: Annotated[str, typer.Option("--reason", help="Why.")],
        hard: Annotated[bool, typer.Option("--hard", help="Emergencies may not override.")] = False,
    ) -> int:
        """Freeze deployments to an environment between two times."""
        from releasegate.cli import policy_impl

        return policy_impl.freeze_add(
            globals_of(ctx), env=env, start=start, end=end, reason=reason, hard=hard
        )

    @freeze.command("list")
    def freeze_list(ctx: typer.Context) -> int:
        """List ad-hoc freezes."""
        from releasegate.cli import policy_impl

        return policy_impl.freeze_list(globals_of(ctx))

    @freeze.command("remove")
    def freeze_remove(
        ctx: typer.Context, id: Annotated[int, typer.Argument(help="Freeze id.")]
    ) -> int:
        """Remove an ad-hoc freeze."""
        from releasegate.cli import policy_impl

        return policy_impl.freeze_remove(globals_of(ctx), id)

    app.add_typer(freeze, name="freeze")

    incident = typer.Typer(help="Incidents: they freeze production and start a clock.", no_args_is_help=True)

    @incident.command("open")
    def incident_open(
        ctx: typer.Context,
        title: Annotated[str, typer.Argument(help="What is happening.")],
        severity: Annotated[str, typer.Option("--severity", help="low, medium, high, critical.")],
        impact: Annotated[
            str, typer.Option("--impact", help="Share of users affected, e.g. 60%.")
        ] = "100%",
        env: Annotated[str, typer.Option("--env", help="Environment.")] = "production",
        deployment: Annotated[
            int | None,
            typer.Option("--deployment", help="The deployment that caused it (linked as a failure)."),
        ] = None,
    ) -> int:
        """Open an incident; prints the decision matrix's action and deadline."""
        from releasegate.cli import policy_impl

        return policy_impl.incident_open(
            globals_of(ctx), title, severity=severity, impact=impact, env=env, deployment=deployment
        )

    @incident.command("close")
    def incident_close(
        ctx: typer.Context,
        id: Annotated[int, typer.Argument(help="Incident id.")],
        note: Annotated[str | None, typer.Option("--note", help="Resolution.")] = None,
    ) -> int:
        """Close an incident."""
        from releasegate.cli import policy_impl

        return policy_impl.incident_close(globals_of(ctx), id, note=note)

    @incident.command("list")
    def incident_list(
        ctx: typer.Context,
        all: Annotated[bool, typer.Option("--all", help="Closed ones too.")] = False,
    ) -> int:
        """List incidents."""
        from releasegate.cli import policy_impl

        return policy_impl.incident_list(globals_of(ctx), include_closed=all)

    app.add_typer(incident, name="incident")

    campaign = typer.Typer(help="Marketing campaigns: no deploys around them.", no_args_is_help=True)

    @campaign.command("add")
    def campaign_add(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="The campaign.")],
        at: Annotated[str, typer.Option("--at", help="ISO time it starts.")],
        buffer: Annotated[
            str | None, typer.Option("--buffer", help="Freeze this long around it (default from config).")
        ] = None,
        env: Annotated[str, typer.Option("--env", help="Environment.")] = "production",
    ) -> int:
        """Record a campaign; deployments are frozen within the buffer around it."""
        from releasegate.cli import policy_impl

        return policy_impl.campaign_add(globals_of(ctx), name, at=at, buffer=buffer, env=env)

    @campaign.command("list")
    def campaign_list(ctx: typer.Context) -> int:
        """List campaigns."""
        from releasegate.cli import policy_impl

        return policy_impl.campaign_list(globals_of(ctx))

    app.add_typer(campaign, name="campaign")
