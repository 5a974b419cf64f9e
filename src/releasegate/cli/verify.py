"""``releasegate verify ENV [--stage NAME] [--rollback]``: the environment's verification
stages against what is live now, outside any deployment (``service.verify``)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from releasegate.cli.context import globals_of
from releasegate.cli.exit_codes import Exit


def register(app: typer.Typer) -> None:
    @app.command()
    def verify(
        ctx: typer.Context,
        env: Annotated[str, typer.Argument(help="The environment.")],
        stage: Annotated[
            str | None, typer.Option("--stage", help="Run only this verify stage.")
        ] = None,
        rollback: Annotated[
            bool, typer.Option("--rollback", help="Roll the environment back if a stage fails.")
        ] = False,
    ) -> int:
        """Run ENV's verify stages against the live version now (recorded); exit 0 when they
        pass, 1 when not, 5 when --rollback rolled back."""
        from rich.console import Console

        from releasegate.cli.deploy_impl import EXIT_FOR
        from releasegate.cli.live import JsonLines, LiveTree
        from releasegate.service import verify as service

        g = globals_of(ctx)
        view = JsonLines() if g.json else LiveTree(Console(), title=f"verify {env}")
        with view:
            report = service.verify(g.workspace, g.actor, env, stage=stage, rollback=rollback, reporter=view)
        if g.json:
            print(json.dumps(report.to_json()))
        else:
            print(f"verify {env} ({report.version or 'nothing live'}): {report.verdict} — "
                  f"{report.detail or report.reason}")
        if report.rollback is not None:  # a rollback that succeeded: failed, rolled back cleanly
            if report.rollback.status == "succeeded":
                return Exit.ROLLED_BACK
            return int(EXIT_FOR.get(report.rollback.status, Exit.FAILED))
        return Exit.OK if report.verdict == "pass" else Exit.FAILED
