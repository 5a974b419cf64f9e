"""``create_app``: one ASGI app for the build and settings it is given."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from camarketplace import migrate, monitoring
from camarketplace.api import auth, files, notifications, payments, service_requests
from camarketplace.db import Database, DatabaseError
from camarketplace.metrics import Metrics, MetricsMiddleware, SlowdownMiddleware
from camarketplace.settings import Settings, load_settings
from camarketplace.state import AppState

log = logging.getLogger("uvicorn.error.camarketplace")  # shown with uvicorn's own log


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service for ``settings`` (default: from the environment and the build manifest)."""
    settings = settings or load_settings()
    build = settings.build
    features = build.features
    state = AppState(
        settings=settings,
        db=Database(settings.database_url),
        metrics=Metrics(version=build.version, commit=build.commit),
        redis=(
            redis.Redis.from_url(settings.redis_url, socket_connect_timeout=1, socket_timeout=1)
            if settings.redis_url
            else None
        ),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if settings.auto_migrate:
            for applied in migrate.up(state.db, features.schema):
                log.info("applied migration %s", applied.label)
        schema = migrate.current_version(state.db)
        if schema < features.schema:
            log.warning(
                "schema at %s, camarketplace %s needs %s: run python -m camarketplace.migrate up",
                schema, build.version, features.schema,
            )  # fmt: skip
        log.info(
            "camarketplace %s (%s) serving, %s database",
            build.version,
            build.commit[:8],
            state.db.kind,
        )
        yield
        state.db.close()
        if state.redis is not None:
            state.redis.close()

    app = FastAPI(title="CA Marketplace", version=build.version, lifespan=lifespan)
    app.state.camarketplace = state
    app.include_router(monitoring.router)
    app.include_router(auth.router)
    app.include_router(service_requests.router)
    app.include_router(payments.build_router(features))
    app.include_router(files.router)
    app.include_router(notifications.router)

    @app.exception_handler(DatabaseError)
    async def database_down(request: Request, exc: DatabaseError) -> JSONResponse:
        log.error("database error on %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse({"detail": "database unavailable"}, status_code=503)

    if features.slow_every:
        app.add_middleware(SlowdownMiddleware, every=features.slow_every, delay=features.slow_delay)
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)  # outermost: times it all
    return app
