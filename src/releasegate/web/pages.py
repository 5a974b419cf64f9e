"""The dashboard's pages (server-rendered)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).with_name("static")
router = APIRouter(include_in_schema=False)


def mount_static(app: FastAPI) -> None:
    """Serve ``web/static`` (htmx and the stylesheet: nothing from a CDN) at ``/static``."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
