"""``prometheus``: PromQL over Prometheus's HTTP API, one metric per query.

Each interval, every query runs once: an **instant** query (``/api/v1/query``) at the
interval's end, or a **range** query (``/api/v1/query_range``) over the interval with
``step``, its points reduced to one value. ``{interval}`` in a query is replaced by the
interval's length (``rate(x[{interval}])``). A query that returns no series, or only
NaN, has no data that interval; a Prometheus that is down or answers garbage is
unreadable (a DriverError naming it).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import ClassVar, Literal

import httpx
from pydantic import Field

from releasegate.config.types import Duration
from releasegate.drivers.api import MetricUnit, Options, Sample, StepContext
from releasegate.drivers.process import resolve_secret
from releasegate.errors import DriverError

Reduce = Literal["max", "min", "mean", "last", "sum"]
_UNIT_SCALE: dict[str, tuple[MetricUnit, float]] = {
    "": ("", 1.0),
    "s": ("ms", 1000.0),
    "ms": ("ms", 1.0),
    "ratio": ("%", 100.0),
    "%": ("%", 1.0),
    "bytes": ("MB", 1 / 1048576),
    "MB": ("MB", 1.0),
}


class Query(Options):
    """One PromQL query, reported as one metric."""

    query: str = Field(description="PromQL; {interval} becomes the interval, e.g. 15s.")
    range: bool = Field(False, description="A range query over the interval instead of instant.")
    step: Duration = Field(timedelta(seconds=5), description="Range queries: resolution.")
    reduce: Reduce = Field(
        "max", description="How several series (and a range's points) become one value."
    )
    unit: Literal["", "s", "ms", "ratio", "%", "bytes", "MB"] = Field(
        "", description="What the query returns: s → ms, ratio → %, bytes → MB."
    )


class PrometheusOptions(Options):
    """Options of the ``prometheus`` source."""

    url: str = Field(description="Base URL of Prometheus, e.g. http://127.0.0.1:9090.")
    queries: dict[str, Query | str] = Field(
        description="Metric name → a query (or its PromQL alone).", min_length=1
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Request headers; values may be secret references."
    )
    timeout: Duration = Field(timedelta(seconds=10), description="Per-request timeout.")


def _query(spec: Query | str) -> Query:
    return spec if isinstance(spec, Query) else Query(query=spec)


def _interval(seconds: float) -> str:
    return f"{max(1, round(seconds))}s"


def _points(data: object, url: str) -> list[float]:
    """Every value of a Prometheus ``data`` object (vector, matrix or scalar)."""
    if not isinstance(data, dict) or "resultType" not in data or "result" not in data:
        raise DriverError(f"prometheus at {url} answered garbage: no data.resultType/result")
    kind, result = data["resultType"], data["result"]
    try:
        if kind == "scalar":
            return [float(result[1])]
        if kind == "vector":
            return [float(series["value"][1]) for series in result]
        if kind == "matrix":
            return [float(point[1]) for series in result for point in series["values"]]
    except (TypeError, KeyError, IndexError, ValueError) as exc:
        raise DriverError(f"prometheus at {url} answered garbage: {exc!r}") from exc
    raise DriverError(f"prometheus at {url} answered a {kind!r} result; expected vector or matrix")


def _reduce(values: list[float], how: Reduce) -> float:
    if how == "max":
        return max(values)
    if how == "min":
        return min(values)
    if how == "sum":
        return sum(values)
    if how == "last":
        return values[-1]
    return sum(values) / len(values)


class Prometheus:
    """Runs each query once per interval, after the interval has passed."""

    name: ClassVar[str] = "prometheus"
    Options: ClassVar[type[PrometheusOptions]] = PrometheusOptions

    def metrics(self, options: PrometheusOptions) -> Mapping[str, MetricUnit]:
        return {m: _UNIT_SCALE[_query(q).unit][0] for m, q in options.queries.items()}

    async def sample(self, options: PrometheusOptions, ctx: StepContext, *, seconds: float) -> Sample:
        await asyncio.sleep(seconds)
        end = time.time()
        base = options.url.rstrip("/")
        headers = {k: resolve_secret(ctx, v, what=f"prometheus headers.{k}") for k, v in options.headers.items()}
        values: dict[str, float] = {}
        missing: dict[str, str] = {}
        async with httpx.AsyncClient(timeout=options.timeout.total_seconds(), headers=headers) as client:
            for metric, spec in options.queries.items():
                q = _query(spec)
                found = await self._run(client, base, q, start=end - seconds, end=end, seconds=seconds)
                finite = [v for v in found if math.isfinite(v)]
                if not found:
                    missing[metric] = f"no series for {q.query!r}"
                elif not finite:
                    missing[metric] = f"{q.query!r} returned only NaN/Inf"
                else:
                    values[metric] = _reduce(finite, q.reduce) * _UNIT_SCALE[q.unit][1]
        return Sample(at=end, values=values, missing=missing)

    async def _run(self, client: httpx.AsyncClient, base: str, q: Query, *, start: float, end: float, seconds: float) -> list[float]:
        promql = q.query.replace("{interval}", _interval(seconds))
        if q.range:
            path = "/api/v1/query_range"
            params = {"query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{q.step.total_seconds():g}"}
        else:
            path, params = "/api/v1/query", {"query": promql, "time": f"{end:.3f}"}
        try:
            response = await client.get(base + path, params=params)
        except httpx.HTTPError as exc:
            raise DriverError(f"cannot reach prometheus at {base}: {type(exc).__name__}: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            raise DriverError(
                f"prometheus at {base} answered garbage (HTTP {response.status_code}, not JSON)"
            ) from None
        if not isinstance(body, dict) or body.get("status") != "success":
            why = body.get("error") if isinstance(body, dict) else None
            raise DriverError(
                f"prometheus at {base} refused {promql!r} (HTTP {response.status_code}): {why or 'no status: success'}"
            )
        return _points(body.get("data"), base)
