"""The FastAPI application: the REST API under ``/api/v1``, the pages, the monitoring.

>>> app = create_app(lambda: Workspace(Path("releasegate.yaml")))

Every route calls one use case of ``releasegate.service`` and presents its data; the
error tree becomes an HTTP status in one handler (``web/errors.py``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from releasegate import __version__
from releasegate.web import errors
from releasegate.web.state import WebState, WorkspaceFactory

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # scripts and styles come from this server only (htmx is vendored, nothing from a CDN)
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "Cache-Control": "no-store",
}


def create_app(
    workspace_factory: WorkspaceFactory, *, secure_cookies: bool = False,
    session_key: bytes | None = None,
) -> FastAPI:
    """The app over the workspace ``workspace_factory()`` returns (called once for the
    requests, and once more for each deployment run in the background).

    ``secure_cookies`` marks the session cookie ``Secure`` (behind HTTPS);
    ``session_key`` signs the forms' CSRF tokens (default: drawn now; the processes of
    ``serve --processes N`` share one, or a form would fail on another process)."""
    from releasegate.service.threads import before_threads
    from releasegate.web import api_read, api_write, monitoring, pages

    before_threads()  # requests and background deployments run in threads

    state = WebState(workspace_factory)
    if session_key is not None:
        state.session_key = session_key

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(
        title="releasegate",
        version=__version__,
        description="The deployment checklist, executable: the REST API (docs/api.md).",
        lifespan=lifespan,
    )
    app.state.releasegate = state
    app.state.secure_cookies = secure_cookies
    errors.install(app)

    app.add_middleware(_Harden, state=state)

    app.include_router(monitoring.router)
    app.include_router(api_read.router)
    app.include_router(api_write.router)
    app.include_router(pages.router)
    pages.mount_static(app)
    return app


PROCESS_ENV = "RELEASEGATE_SERVE_PROCESS"
"""How ``serve --processes N`` hands each process its workspace and session key:
JSON ``{"config", "db", "key"}``, removed from the environment as soon as it is read (so
the commands a deployment runs never see the key)."""


def from_environment() -> FastAPI:
    """The app of one process of ``serve --processes N`` (uvicorn imports and calls it)."""
    import json
    import os
    from pathlib import Path

    from releasegate.service.workspace import Workspace

    given = json.loads(os.environ.pop(PROCESS_ENV))
    config, db = Path(given["config"]), given["db"]

    def factory() -> Workspace:
        return Workspace(config, db)

    return create_app(factory, session_key=bytes.fromhex(given["key"]))


_HEADERS = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
_CSP = b"content-security-policy"


class _Harden:
    """Counts each answer by route and status, and adds the security headers and a
    ``Server-Timing`` (a plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` costs a
    task and a stream per request)."""

    def __init__(self, app: ASGIApp, *, state: WebState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # /docs (Swagger UI) loads its scripts from a CDN: the only page without the CSP
        docs = scope["path"].startswith("/docs")
        began = time.perf_counter()

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in _HEADERS if k not in present and not (docs and k == _CSP)]
                # the server's time to the answer's first byte, as browsers' tools show it
                took = (time.perf_counter() - began) * 1000
                extra.append((b"server-timing", f"app;dur={took:.1f}".encode()))
                message["headers"] = [*message.get("headers", []), *extra]
                route = scope.get("route")
                self.state.requests[(getattr(route, "path", "unmatched"), message["status"])] += 1
            await send(message)

        await self.app(scope, receive, sending)
