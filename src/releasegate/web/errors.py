"""One exception handler: the error tree → an HTTP status and one JSON shape.

``{"error": {"kind": ..., "message": ..., "details": [...]}}`` — ``kind`` is the word the
CLI prints before its message (``error``, ``blocked``, ``locked``, …), ``message`` one line,
``details`` the explanation's further lines. docs/api.md lists statuses and exit codes side
by side.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from releasegate.errors import (
    ConfigError,
    ConflictError,
    DriverError,
    IdentityError,
    LockedError,
    PermissionDenied,
    PolicyDenied,
    ReleasegateError,
    StoreError,
)

log = logging.getLogger("releasegate.web")

_NOT_FOUND = ("there is no ", "unknown environment ", "does not exist")
"""Messages of the use cases that mean "nothing has that name" (a 404, not a 400)."""


def status_of(exc: ReleasegateError) -> tuple[int, str]:
    """The HTTP status and the error kind for an error of the tree (the order matters:
    the specific branches of PolicyDenied come before it)."""
    text = str(exc)
    if isinstance(exc, IdentityError):
        return 401, "unauthenticated"
    if isinstance(exc, PermissionDenied):
        return 403, "forbidden"
    if isinstance(exc, ConflictError):
        return 409, "conflict"
    if isinstance(exc, PolicyDenied):
        return 409, "blocked"
    if isinstance(exc, LockedError):
        return 423, "locked"
    if isinstance(exc, ConfigError | StoreError) and any(m in text for m in _NOT_FOUND):
        return 404, "not_found"
    if isinstance(exc, ConfigError):
        return 400, "invalid"
    if isinstance(exc, StoreError) and " already" in text:
        return 409, "conflict"
    if isinstance(exc, StoreError):
        return 503, "store"
    if isinstance(exc, DriverError):
        return 502, "driver"
    return 500, "error"


def body(kind: str, message: str, details: list[str] | None = None) -> dict[str, object]:
    """The one error shape."""
    return {"error": {"kind": kind, "message": message, "details": details or []}}


def _lines(exc: ReleasegateError) -> tuple[str, list[str]]:
    if isinstance(exc, ConfigError):
        problems = [str(p) for p in exc.problems]
        return (problems[0] if problems else str(exc)), problems[1:]
    details = exc.explanation.splitlines() if isinstance(exc, PolicyDenied) else []
    lines = str(exc).splitlines() or [""]
    return lines[0], [*lines[1:], *details]


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(ReleasegateError)
    async def _ours(request: Request, exc: ReleasegateError) -> JSONResponse:
        status, kind = status_of(exc)
        message, details = _lines(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(body(kind, message, details), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in exc.errors()
        ]
        return JSONResponse(body("invalid", "the request is not valid", details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = "not_found" if exc.status_code == 404 else "http"
        return JSONResponse(
            body(kind, str(exc.detail)), status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # logged with its traceback on the server; the client gets no internals (secrets)
        log.exception("internal error on %s %s", request.method, request.url.path)
        return JSONResponse(body("internal", "internal error (see the server's log)"), status_code=500)
