"""The monitoring endpoints the deployment checklist curls, and ``/metrics``."""

from __future__ import annotations

import time

import redis
from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from camarketplace.db import DatabaseError
from camarketplace.migrate import current_version
from camarketplace.state import State, now_iso

router = APIRouter()


@router.get("/monitoring/health")
def health() -> dict[str, str]:
    """The process is up: ``{"status":"ok","timestamp":"…"}``."""
    return {"status": "ok", "timestamp": now_iso()}


@router.get("/monitoring/health/db")
def health_db(state: State) -> JSONResponse:
    """The database answers and its schema is the one this build needs (else 503)."""
    needed = state.settings.build.features.schema
    start = time.perf_counter()
    try:
        schema = current_version(state.db)
    except DatabaseError as exc:
        return JSONResponse({"status": "down", "reason": str(exc)}, status_code=503)
    latency = round((time.perf_counter() - start) * 1000, 2)
    body: dict[str, object] = {
        "status": "ok",
        "database": state.db.kind,
        "schemaVersion": schema,
        "latencyMs": latency,
    }
    if schema < needed:
        reason = (
            f"schema at {schema}, this build needs {needed}: run python -m camarketplace.migrate up"
        )
        return JSONResponse(body | {"status": "down", "reason": reason}, status_code=503)
    return JSONResponse(body)


@router.get("/monitoring/health/redis")
def health_redis(state: State) -> JSONResponse:
    """``ok``, ``down`` with the reason (503), or ``not-configured`` when REDIS_URL is unset."""
    if state.redis is None:
        return JSONResponse({"status": "not-configured"})
    start = time.perf_counter()
    try:
        state.redis.ping()
    except redis.RedisError as exc:
        return JSONResponse({"status": "down", "reason": str(exc)}, status_code=503)
    latency = round((time.perf_counter() - start) * 1000, 2)
    return JSONResponse({"status": "ok", "latencyMs": latency})


@router.get("/monitoring/version")
def version(state: State) -> dict[str, str]:
    """``{"version":"1.2.0","commit":"…","buildTime":"…"}``."""
    build = state.settings.build
    return {"version": build.version, "commit": build.commit, "buildTime": build.build_time}


@router.get("/metrics")
def metrics(state: State) -> PlainTextResponse:
    """Prometheus text format."""
    return PlainTextResponse(
        state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
    )
