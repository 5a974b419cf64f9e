"""The FastAPI application: the REST API under ``/api/v1``, the pages, the monitoring.

>>> app = create_app(lambda: Workspace(Path("releasegate.yaml")))

Every route calls one use case of ``releasegate.service`` and presents its data; the
error tree becomes an HTTP status in one handler (``web/errors.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

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


def create_app(workspace_factory: WorkspaceFactory, *, secure_cookies: bool = False) -> FastAPI:
    """The app over the workspace ``workspace_factory()`` returns (called once for the
    requests, and once more for each deployment run in the background).

    ``secure_cookies`` marks the session cookie ``Secure`` (behind HTTPS)."""
    from releasegate.web import api_read, api_write, monitoring, pages

    state = WebState(workspace_factory)

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

    @app.middleware("http")
    async def _count_and_harden(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        state.requests[(path, response.status_code)] += 1
        for name, value in SECURITY_HEADERS.items():
            # /docs (Swagger UI) loads its scripts from a CDN: the only page without the CSP
            if name != "Content-Security-Policy" or not request.url.path.startswith("/docs"):
                response.headers.setdefault(name, value)
        return response

    app.include_router(monitoring.router)
    app.include_router(api_read.router)
    app.include_router(api_write.router)
    app.include_router(pages.router)
    pages.mount_static(app)
    return app
