"""``releasegate audit verify``."""

from __future__ import annotations

import typer

from releasegate.cli.context import globals_of


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="The tamper-evident event log.", no_args_is_help=True)

    @group.command()
    def verify(ctx: typer.Context) -> int:
        """Check the hash chain of every recorded event; name any edited or deleted one."""
        from releasegate.cli import audit_impl

        return audit_impl.verify(globals_of(ctx))

    app.add_typer(group, name="audit")
