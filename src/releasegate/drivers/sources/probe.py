"""``probe``: releasegate's own open-loop HTTP load, the default source of a stage.

By default it sends ``GET`` to the environment's url at 10 requests a second; ``requests``
sets paths, methods, bodies, headers and expected statuses (sent in rotation). Each
interval reports latency percentiles measured from each request's scheduled time, the
error rate, and the probe's own schedule slip.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import ClassVar

from pydantic import Field, JsonValue

from releasegate.config.types import Duration
from releasegate.drivers.api import MetricUnit, Options, Sample, StepContext
from releasegate.drivers.process import resolve_secret
from releasegate.errors import DriverError
from releasegate.verify.http1 import Origin, Pool, build_request
from releasegate.verify.openloop import OpenLoop, Prepared, Window

LATENCIES = ("p50", "p90", "p95", "p99", "max", "mean")
METRICS: dict[str, MetricUnit] = {
    "requests": "",
    "error_rate": "%",
    **{name: "ms" for name in LATENCIES},
    "slip": "%",
    "slip_p99": "ms",
}


class ProbeRequest(Options):
    """One request of the probe's rotation."""

    path: str = Field("/", description="Path relative to the url.")
    method: str = Field("GET", description="HTTP method.")
    body: JsonValue = Field(
        None, description="A string is sent as is; anything else as JSON. May hold secrets."
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Request headers; values may be secret references."
    )
    expect: list[int] = Field(
        default_factory=list, description="Statuses that count as success (default 200-399)."
    )


class ProbeOptions(Options):
    """Options of the ``probe`` source."""

    url: str | None = Field(None, description="Base URL; defaults to the environment's url.")
    rate: float = Field(10.0, gt=0, le=5000, description="Requests per second (at most 5000).")
    requests: list[ProbeRequest] = Field(
        default_factory=lambda: [ProbeRequest()],
        min_length=1,
        description="The requests, sent in rotation.",
    )
    timeout: Duration = Field(
        timedelta(seconds=5), description="A request without an answer by then is an error."
    )
    connections: int = Field(256, ge=1, le=4096, description="Most connections open at once.")
    max_slip: float = Field(
        5.0,
        ge=0,
        le=100,
        description="Percent of requests that may leave late before the interval's figures "
        "are reported as the load generator's, not the service's.",
    )
    slip_tolerance: Duration = Field(
        timedelta(milliseconds=10), description="How late a request may leave and be on time."
    )
    max_duration: Duration = Field(
        timedelta(hours=4), description="The probe refuses to run longer than this in all."
    )


def prepare(options: ProbeOptions, ctx: StepContext) -> tuple[Origin, list[Prepared]]:
    """The origin and the request bytes, secret references resolved (never logged)."""
    base = options.url or ctx.url
    if not base:
        raise DriverError("probe: the environment has no url and the probe was given none")
    try:
        origin = Origin.of(resolve_secret(ctx, base, what="probe url"))
    except ValueError as exc:
        raise DriverError(f"probe: {exc}") from exc
    prepared: list[Prepared] = []
    for i, req in enumerate(options.requests):
        where = f"probe requests[{i}]"
        headers = {k: resolve_secret(ctx, v, what=f"{where}.headers.{k}") for k, v in req.headers.items()}
        body = b""
        if isinstance(req.body, str):
            body = resolve_secret(ctx, req.body, what=f"{where}.body").encode()
        elif req.body is not None:
            body = resolve_secret(ctx, json.dumps(req.body), what=f"{where}.body").encode()
            headers.setdefault("Content-Type", "application/json")
        method = req.method.upper()
        raw = build_request(origin, method, req.path, headers=headers, body=body)
        prepared.append(Prepared(raw=raw, expect=frozenset(req.expect), head=method == "HEAD"))
    return origin, prepared


_MIN_LATE = 3
"""Fewer late requests than this are hiccups of a busy machine, not a rate it cannot
sustain (one late request is 10 % of a second at 10 requests/s)."""


def figures(window: Window, *, rate: float, max_slip: float, tolerance_ms: float, timeout_ms: float) -> Sample:
    """A window's figures as a :class:`Sample`; absent metrics say why."""
    values: dict[str, float] = {"requests": float(window.requests)}
    missing: dict[str, str] = {}
    if window.requests == 0:
        why = "no request was due in the interval"
        missing = {m: why for m in METRICS if m != "requests"}
        return Sample(at=time.time(), values=values, missing=missing)
    values["error_rate"] = window.error_rate
    values["slip"] = window.slip_rate
    values["slip_p99"] = window.slip.get_value_at_percentile(99) / 1000.0
    at_least: set[str] = set()
    if window.latency.get_total_count():
        for name, q in (("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99)):
            values[name] = window.percentile_ms(q)
            if values[name] >= timeout_ms * 0.999:  # within the histogram's precision
                at_least.add(name)
        values["max"] = window.latency.get_max_value() / 1000.0
        values["mean"] = window.mean_ms()
        if window.timeouts:
            at_least |= {"max", "mean"}
    else:
        kinds = ", ".join(f"{n}× {k}" for k, n in window.error_kinds.most_common(2))
        missing = {m: f"no response in the interval ({kinds})" for m in LATENCIES}
    caveat = None
    if window.slip_rate > max_slip and window.late >= _MIN_LATE:
        caveat = (
            f"the probe sent {window.slip_rate:.1f}% of its requests more than "
            f"{tolerance_ms:g}ms late (slip p99 {values['slip_p99']:.0f}ms): this machine "
            f"cannot sustain {rate:g} requests/s, so the figures describe the load "
            "generator, not the service"
        )
    return Sample(at=time.time(), values=values, missing=missing, caveat=caveat, at_least=frozenset(at_least))


class Probe:
    """Keeps one open loop running across a stage's intervals."""

    name: ClassVar[str] = "probe"
    Options: ClassVar[type[ProbeOptions]] = ProbeOptions

    def __init__(self) -> None:
        self._loop: OpenLoop | None = None
        self._spent = 0.0

    def metrics(self, options: ProbeOptions) -> Mapping[str, MetricUnit]:
        return METRICS

    async def sample(self, options: ProbeOptions, ctx: StepContext, *, seconds: float) -> Sample:
        self._spent += seconds
        if self._spent > options.max_duration.total_seconds():
            raise DriverError(
                f"probe: would run past its max_duration of {options.max_duration} (stopped)"
            )
        if self._loop is None:
            origin, prepared = prepare(options, ctx)
            self._loop = OpenLoop(
                Pool(origin, size=options.connections),
                prepared,
                rate=options.rate,
                timeout=options.timeout.total_seconds(),
                slip_tolerance=options.slip_tolerance.total_seconds(),
            )
        window = await self._loop.next_interval(seconds)
        tolerance_ms = options.slip_tolerance.total_seconds() * 1000
        return figures(window, rate=options.rate, max_slip=options.max_slip, tolerance_ms=tolerance_ms,
                       timeout_ms=options.timeout.total_seconds() * 1000)  # fmt: skip

    async def close(self) -> None:
        """Stop the load."""
        if self._loop is not None:
            await self._loop.stop()
            self._loop = None
