"""A tiny ASGI app for the local target's tests: its version comes from ``APP_VERSION``.

``APP_HEALTH=fail`` makes its health check answer 500 (a version that must not go live);
``APP_VERSION_FILE`` (for the gunicorn experiment) reads the version from a file at import.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

_file = os.environ.get("APP_VERSION_FILE")
VERSION = Path(_file).read_text().strip() if _file else os.environ.get("APP_VERSION", "0.0.0")


async def health(request: Request) -> JSONResponse:
    if os.environ.get("APP_HEALTH") == "fail":
        return JSONResponse({"status": "down", "reason": "told to fail"}, status_code=500)
    return JSONResponse({"status": "ok"})


async def version(request: Request) -> JSONResponse:
    return JSONResponse({"version": VERSION}, headers={"x-app-version": VERSION})


app = Starlette(routes=[Route("/monitoring/health", health), Route("/monitoring/version", version)])
