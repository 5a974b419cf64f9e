"""Prometheus metrics, written in the text exposition format by hand (no extra dependency).

``camarketplace_http_requests_total{method,path,status}`` counts requests by route template,
``camarketplace_http_request_duration_seconds{path}`` is a latency histogram,
``camarketplace_payments_total{method,outcome}`` counts gateway outcomes, and
``camarketplace_build_info{version,commit}`` says which build answered.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The process's counters and histograms."""

    def __init__(self, *, version: str, commit: str) -> None:
        self._lock = threading.Lock()
        self._build = (version, commit)
        self._requests: defaultdict[tuple[str, str, str], int] = defaultdict(int)
        self._buckets: defaultdict[str, list[int]] = defaultdict(lambda: [0] * len(BUCKETS))
        self._sums: defaultdict[str, float] = defaultdict(float)
        self._counts: defaultdict[str, int] = defaultdict(int)
        self._payments: defaultdict[tuple[str, str], int] = defaultdict(int)

    def observe_request(self, method: str, path: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        with self._lock:
            self._requests[(method, path, str(status))] += 1
            buckets = self._buckets[path]
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    buckets[i] += 1
            self._sums[path] += seconds
            self._counts[path] += 1

    def observe_payment(self, method: str, outcome: str) -> None:
        """Count one payment attempt by method and outcome (captured, failed)."""
        with self._lock:
            self._payments[(method, outcome)] += 1

    def render(self) -> str:
        """The text exposition format."""
        version, commit = self._build
        lines = [
            "# HELP camarketplace_build_info The build answering these requests.",
            "# TYPE camarketplace_build_info gauge",
            f'camarketplace_build_info{{version="{version}",commit="{commit}"}} 1',
            "# HELP camarketplace_http_requests_total HTTP requests by method, route and status.",
            "# TYPE camarketplace_http_requests_total counter",
        ]
        with self._lock:
            for (method, path, status), n in sorted(self._requests.items()):
                lines.append(
                    f'camarketplace_http_requests_total{{method="{method}",path="{path}",'
                    f'status="{status}"}} {n}'
                )
            lines += [
                "# HELP camarketplace_http_request_duration_seconds Request latency by route.",
                "# TYPE camarketplace_http_request_duration_seconds histogram",
            ]
            name = "camarketplace_http_request_duration_seconds"
            for path in sorted(self._counts):
                for bound, n in zip(BUCKETS, self._buckets[path], strict=True):
                    lines.append(f'{name}_bucket{{path="{path}",le="{bound}"}} {n}')
                lines.append(f'{name}_bucket{{path="{path}",le="+Inf"}} {self._counts[path]}')
                lines.append(f'{name}_sum{{path="{path}"}} {self._sums[path]:.6f}')
                lines.append(f'{name}_count{{path="{path}"}} {self._counts[path]}')
            lines += [
                "# HELP camarketplace_payments_total Payment attempts by method and outcome.",
                "# TYPE camarketplace_payments_total counter",
            ]
            for (method, outcome), n in sorted(self._payments.items()):
                lines.append(
                    f'camarketplace_payments_total{{method="{method}",outcome="{outcome}"}} {n}'
                )
        return "\n".join(lines) + "\n"


class MetricsMiddleware:
    """Times every HTTP request and counts it under its route template."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "<unmatched>"
            elapsed = time.perf_counter() - start
            self.metrics.observe_request(scope["method"], path, status, elapsed)


class SlowdownMiddleware:
    """1.2.1's regression: every ``every``-th request waits ``delay`` seconds longer."""

    def __init__(self, app: ASGIApp, *, every: int, delay: float) -> None:
        self.app = app
        self.every = every
        self.delay = delay
        self._seen = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] != "/metrics":
            self._seen += 1
            if self._seen % self.every == 0:
                await asyncio.sleep(self.delay)
        await self.app(scope, receive, send)
