"""``sentry``: error events of the release being verified, from Sentry's API.

Each interval it asks Sentry's Discover endpoint
``GET /api/0/organizations/{organization}/events/`` (documented as "Query Discover
Events in Table Format") for ``count()`` and ``count_unique(issue)`` of events matching
``release:{version} event.type:error`` (plus ``query``) between the interval's start and
end, optionally for one project and environment, with ``dataset=errors``. The answer's
``data[0]`` holds the two counts. Authentication is a bearer token (``org:read``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import httpx
from pydantic import Field

from releasegate.config.types import Duration
from releasegate.drivers.api import MetricUnit, Options, Sample, StepContext
from releasegate.drivers.process import resolve_secret
from releasegate.errors import DriverError

METRICS: dict[str, MetricUnit] = {"sentry_errors": "", "sentry_issues": ""}
_FIELDS = {"sentry_errors": "count()", "sentry_issues": "count_unique(issue)"}


class SentryOptions(Options):
    """Options of the ``sentry`` source."""

    url: str = Field("https://sentry.io", description="Sentry's base URL (self-hosted or SaaS).")
    organization: str = Field(description="The organization's slug.")
    token: str = Field(description="An auth token with org:read; a secret reference.")
    project: list[int] = Field(default_factory=list, description="Project ids (default: all).")
    environment: str | None = Field(None, description="Sentry environment name.")
    release: str | None = Field(None, description="Release name; default: the version deployed.")
    query: str = Field("", description="More search terms, e.g. level:fatal.")
    delay: Duration = Field(
        timedelta(0), description="Ask this long after the interval ends (ingestion lag)."
    )
    timeout: Duration = Field(timedelta(seconds=15), description="Per-request timeout.")


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, tz=UTC).isoformat()


class Sentry:
    """Counts the release's error events in each interval."""

    name: ClassVar[str] = "sentry"
    Options: ClassVar[type[SentryOptions]] = SentryOptions

    def metrics(self, options: SentryOptions) -> Mapping[str, MetricUnit]:
        return METRICS

    async def sample(self, options: SentryOptions, ctx: StepContext, *, seconds: float) -> Sample:
        start = time.time()
        await asyncio.sleep(seconds + options.delay.total_seconds())
        end = start + seconds
        token = resolve_secret(ctx, options.token, what="sentry token")
        release = options.release or ctx.release.version
        query = f'release:"{release}" event.type:error {options.query}'.strip()
        params: list[tuple[str, str | int | float | bool | None]] = [("field", f) for f in _FIELDS.values()]
        params += [("query", query), ("start", _iso(start)), ("end", _iso(end)), ("dataset", "errors")]
        params += [("project", p) for p in options.project]
        if options.environment:
            params.append(("environment", options.environment))
        url = f"{options.url.rstrip('/')}/api/0/organizations/{options.organization}/events/"
        try:
            async with httpx.AsyncClient(timeout=options.timeout.total_seconds()) as client:
                response = await client.get(url, params=params, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            raise DriverError(f"sentry: cannot reach {options.url}: {type(exc).__name__}") from exc
        return _counts(response, options.url, at=end)


def _counts(response: httpx.Response, base: str, *, at: float) -> Sample:
    if response.status_code == 429:
        wait = response.headers.get("Retry-After", "?")
        raise DriverError(f"sentry at {base} is rate-limiting us (Retry-After {wait}s)")
    if response.status_code in (401, 403):
        raise DriverError(f"sentry at {base} refused the token (HTTP {response.status_code})")
    try:
        body = response.json()
    except ValueError:
        raise DriverError(f"sentry at {base} answered garbage (HTTP {response.status_code})") from None
    if response.status_code != 200:
        detail = body.get("detail") if isinstance(body, dict) else None
        raise DriverError(f"sentry at {base}: HTTP {response.status_code}: {detail or 'error'}")
    rows = body.get("data") if isinstance(body, dict) else None
    if not isinstance(rows, list):
        raise DriverError(f"sentry at {base} answered without a data list")
    if not rows:  # no matching event: Discover may answer an empty table
        return Sample(at=at, values=dict.fromkeys(_FIELDS, 0.0))
    row = rows[0]
    values: dict[str, float] = {}
    for metric, name in _FIELDS.items():
        value = row.get(name) if isinstance(row, dict) else None
        if not isinstance(value, int | float):
            raise DriverError(f"sentry at {base} answered no number for {name}")
        values[metric] = float(value)
    return Sample(at=at, values=values)
