"""``releasegate serve``: the web dashboard and the REST API over this workspace's store."""

from __future__ import annotations

from typing import Annotated

import typer

from releasegate.cli.context import globals_of
from releasegate.cli.exit_codes import Exit


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        ctx: typer.Context,
        host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8400,
    ) -> int:
        """Serve the dashboard and the REST API (/api/v1, OpenAPI at /openapi.json)."""
        import uvicorn

        from releasegate.service.workspace import Workspace
        from releasegate.web import create_app

        g = globals_of(ctx)
        g.workspace.config  # noqa: B018 — a bad config fails here, before listening

        def factory() -> Workspace:
            return Workspace(g.config_path, g.db_url)

        # no --proxy-headers: the peer address must stay the connection's own, which is
        # what identity.sso.trusted_proxies is checked against (X-Forwarded-For is not)
        uvicorn.run(
            create_app(factory), host=host, port=port, log_level="info", proxy_headers=False
        )
        return Exit.OK
