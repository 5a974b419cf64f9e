"""``redis``: memory used against its limit, and connected clients (``INFO``).

``redis_memory_pct`` is ``used_memory`` over ``maxmemory``; a Redis without a limit
(``maxmemory 0``) is measured against the host's memory (``total_system_memory``), the
limit it will in fact meet.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import ClassVar

import redis.asyncio as aioredis
import redis.exceptions
from pydantic import Field

from releasegate.config.types import Duration
from releasegate.drivers.api import MetricUnit, Options, Sample, StepContext
from releasegate.drivers.process import resolve_secret
from releasegate.errors import DriverError

METRICS: dict[str, MetricUnit] = {
    "redis_memory": "MB",
    "redis_memory_pct": "%",
    "redis_clients": "",
    "redis_blocked_clients": "",
    "redis_rejected_connections": "",
}


class RedisOptions(Options):
    """Options of the ``redis`` source."""

    url: str = Field(
        description="redis://[:password@]host:port/db; usually a secret reference such as "
        "${env:REDIS_URL}."
    )
    timeout: Duration = Field(timedelta(seconds=5), description="Connect and read timeout.")


def _number(info: Mapping[str, object], key: str) -> float:
    value = info.get(key, 0)
    return float(value) if isinstance(value, int | float | str) else 0.0


class Redis:
    """Reads ``INFO`` at the end of each interval (rejections: counted over it)."""

    name: ClassVar[str] = "redis"
    Options: ClassVar[type[RedisOptions]] = RedisOptions

    def metrics(self, options: RedisOptions) -> Mapping[str, MetricUnit]:
        return METRICS

    async def _info(self, options: RedisOptions, ctx: StepContext) -> dict[str, object]:
        url = resolve_secret(ctx, options.url, what="redis url")
        timeout = options.timeout.total_seconds()
        client = aioredis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        try:
            info: dict[str, object] = await client.info()
            return info
        except redis.exceptions.RedisError as exc:
            raise DriverError(f"redis: {ctx.secrets.redact(str(exc))}") from exc
        finally:
            await client.aclose()

    async def sample(self, options: RedisOptions, ctx: StepContext, *, seconds: float) -> Sample:
        before = await self._info(options, ctx)
        await asyncio.sleep(seconds)
        info = await self._info(options, ctx)
        used = _number(info, "used_memory")
        limit = _number(info, "maxmemory") or _number(info, "total_system_memory")
        values = {
            "redis_memory": used / 1048576,
            "redis_clients": _number(info, "connected_clients"),
            "redis_blocked_clients": _number(info, "blocked_clients"),
            "redis_rejected_connections": _number(info, "rejected_connections")
            - _number(before, "rejected_connections"),
        }
        missing: dict[str, str] = {}
        if limit:
            values["redis_memory_pct"] = 100.0 * used / limit
        else:
            missing["redis_memory_pct"] = "neither maxmemory nor total_system_memory is known"
        return Sample(at=time.time(), values=values, missing=missing)
