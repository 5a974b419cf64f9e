"""``releasegate validate`` and ``releasegate schema``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from releasegate.cli.context import globals_of


def register(app: typer.Typer) -> None:
    @app.command()
    def validate(ctx: typer.Context) -> int:
        """Check the config: every error, with file:line:column and key path, at once."""
        from releasegate.cli import configure_impl

        return configure_impl.validate(globals_of(ctx))

    @app.command()
    def schema(
        ctx: typer.Context,
        out: Annotated[
            Path | None, typer.Option("--out", "-o", help="Write to this file, not stdout.")
        ] = None,
    ) -> int:
        """Print the JSON Schema of releasegate.yaml (for editors' YAML language servers)."""
        from releasegate.cli import configure_impl

        return configure_impl.schema(globals_of(ctx), out=out)
