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
        processes: Annotated[int, typer.Option(
            "--processes", min=1, max=64,
            help="Server processes sharing the port (default 1; one per core reads faster). Not the queue's workers.",
        )] = 1,
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
        options = {"host": host, "port": port, "log_level": "info", "proxy_headers": False}
        if processes == 1:
            uvicorn.run(create_app(factory), **options)  # type: ignore[arg-type]
            return Exit.OK
        import json
        import os
        import secrets

        from releasegate.web.app import PROCESS_ENV

        os.environ[PROCESS_ENV] = json.dumps({
            "config": str(g.config_path.resolve()), "db": g.db_url,
            "key": secrets.token_hex(32),
        })
        uvicorn.run(
            "releasegate.web.app:from_environment", factory=True, workers=processes,
            **options,  # type: ignore[arg-type]
        )
        return Exit.OK
