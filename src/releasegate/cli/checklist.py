"""``releasegate init`` and ``releasegate checklist coverage``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from releasegate.cli.context import globals_of


def register(app: typer.Typer) -> None:
    @app.command()
    def init(
        ctx: typer.Context,
        directory: Annotated[
            Path | None,
            typer.Argument(help="With --example: copy the whole example into this new directory."),
        ] = None,
        from_checklist: Annotated[
            Path | None,
            typer.Option("--from-checklist", help="A markdown checklist to turn into config."),
        ] = None,
        example: Annotated[
            str | None, typer.Option("--example", help="Start from a shipped example.")
        ] = None,
        force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    ) -> int:
        """Write a commented releasegate.yaml (from a checklist, an example or a template)."""
        from releasegate.cli import checklist_impl

        return checklist_impl.init(globals_of(ctx), from_checklist=from_checklist,
                                   example=example, force=force, directory=directory)

    group = typer.Typer(help="The checklist this config implements.", no_args_is_help=True)

    @group.command()
    def coverage(
        ctx: typer.Context,
        spec: Annotated[
            Path | None,
            typer.Option("--spec", help="The markdown checklist (default: the config's own)."),
        ] = None,
    ) -> int:
        """How many checklist items are automated, policy, signed, suggested or missing."""
        from releasegate.cli import checklist_impl

        return checklist_impl.coverage(globals_of(ctx), spec=spec)

    @group.command()
    def items(
        ctx: typer.Context,
        spec: Annotated[
            Path | None,
            typer.Option("--spec", help="The markdown checklist (default: the config's own)."),
        ] = None,
        why: Annotated[
            bool,
            typer.Option("--why", help="Say where each item belongs and what covers it, and why."),
        ] = False,
    ) -> int:
        """List the checklist's items with the ids that config refers to them by."""
        from releasegate.cli import checklist_impl

        return checklist_impl.items(globals_of(ctx), spec=spec, why=why)

    app.add_typer(group, name="checklist")
