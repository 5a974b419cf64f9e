"""``releasegate target start|stop|status ENV``: the target outside a deployment."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from releasegate.cli.context import globals_of
from releasegate.cli.exit_codes import Exit

EnvArgument = Annotated[str, typer.Argument(help="The environment.")]


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="The environment's target outside a deployment (e.g. after a reboot).",
        no_args_is_help=True,
    )

    @group.command()
    def start(ctx: typer.Context, env: EnvArgument) -> int:
        """Start the recorded live version again, without a deployment (recorded)."""
        from releasegate.service import targets

        g = globals_of(ctx)
        done = targets.start(g.workspace, g.actor, env)
        print(json.dumps(done.to_json()) if g.json else done.text)
        return Exit.OK

    @group.command()
    def stop(ctx: typer.Context, env: EnvArgument) -> int:
        """Stop the target's processes (the record is unchanged)."""
        from releasegate.service import targets

        g = globals_of(ctx)
        done = targets.stop(g.workspace, g.actor, env)
        print(json.dumps(done.to_json()) if g.json else done.text)
        return Exit.OK

    app.add_typer(group, name="target")
