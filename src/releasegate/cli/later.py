"""Commands whose behaviour arrives with a later issue: they say so and exit 2."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer

from releasegate.errors import UsageError


def not_yet(command: str, what: str) -> NoReturn:
    """Refuse a command that is documented but not built yet (exit 2, never a fake success)."""
    raise UsageError(f"'releasegate {command}' is not available yet: it arrives with {what}")


def register(app: typer.Typer) -> None:
    @app.command()
    def metrics(
        env: Annotated[str | None, typer.Option("--env", help="Only this environment.")] = None,
        since: Annotated[str, typer.Option("--since", help="How far back, e.g. 90d.")] = "90d",
    ) -> None:
        """DORA metrics and the checklist's targets, from the recorded deployments."""
        not_yet("metrics", "the metrics issue")

    @app.command()
    def report(
        out: Annotated[str | None, typer.Option("--out", help="Directory for the report.")] = None,
    ) -> None:
        """Write an HTML/markdown report of deployments and metrics."""
        not_yet("report", "the metrics issue")
