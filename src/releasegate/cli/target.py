"""``releasegate target start|stop|restart|status|systemd-unit ENV``: the target outside a
deployment."""

from __future__ import annotations

import json
from pathlib import Path
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

    @group.command()
    def restart(ctx: typer.Context, env: EnvArgument) -> int:
        """Stop the target and start the recorded live version again (both recorded)."""
        from releasegate.service import targets

        g = globals_of(ctx)
        done = targets.restart(g.workspace, g.actor, env)
        print(json.dumps(done.to_json()) if g.json else done.text)
        return Exit.OK

    @group.command()
    def status(ctx: typer.Context, env: EnvArgument) -> int:
        """What the target runs (pids, workers, version) against the recorded live version."""
        from releasegate.service import targets

        g = globals_of(ctx)
        found = targets.status(g.workspace, g.actor, env)
        print(json.dumps(found.to_json()) if g.json else found.text)
        return Exit.FAILED if found.mismatch else Exit.OK

    @group.command("systemd-unit")
    def systemd_unit(
        ctx: typer.Context,
        env: EnvArgument,
        out: Annotated[
            Path | None,
            typer.Option(
                "--out",
                help="Write the service unit to this NAME.service file and the socket unit "
                "beside it (NAME.socket); default: print both.",
            ),
        ] = None,
    ) -> int:
        """The systemd units that start the target at boot (socket-activated)."""
        from releasegate.service import systemd

        g = globals_of(ctx)
        units = systemd.units(g.workspace, g.actor, env, name=out.stem if out else None)
        if out is not None:
            written = systemd.write(units, out)
            if g.json:
                print(json.dumps({**units.to_json(), "written": [str(p) for p in written]}))
            else:
                print("wrote " + " and ".join(str(p) for p in written))
                for note in units.notes:
                    print(f"note: {note}")
            return Exit.OK
        if g.json:
            print(json.dumps(units.to_json()))
        else:
            print(f"# {units.name}.service\n{units.service}\n# {units.name}.socket\n{units.socket}", end="")
            for note in units.notes:
                print(f"# note: {note}")
        return Exit.OK

    app.add_typer(group, name="target")
