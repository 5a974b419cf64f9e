"""The server's own monitoring: ``/monitoring/health``, ``/monitoring/version``, ``/metrics``."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from releasegate import __version__
from releasegate.web.state import state_of

router = APIRouter(tags=["monitoring"])


@router.get("/monitoring/health")
def health(request: Request) -> dict[str, object]:
    """Whether the server answers, and for how long it has."""
    return {"status": "ok", "uptime_s": round(time.time() - state_of(request).started, 3)}


@router.get("/monitoring/version")
def version() -> dict[str, str]:
    """The releasegate version this server runs."""
    return {"version": __version__}


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request) -> str:
    """Prometheus text format: requests by route and status, uptime, background runs."""
    state = state_of(request)
    lines = [
        "# HELP releasegate_http_requests_total HTTP requests answered, by route and status.",
        "# TYPE releasegate_http_requests_total counter",
    ]
    for (route, status), count in sorted(state.requests.items()):
        lines.append(
            f'releasegate_http_requests_total{{route="{_label(route)}",status="{status}"}} {count}'
        )
    lines += [
        "# HELP releasegate_uptime_seconds Seconds since the server started.",
        "# TYPE releasegate_uptime_seconds gauge",
        f"releasegate_uptime_seconds {time.time() - state.started:.3f}",
        "# HELP releasegate_background_runs Deployments running in this server's process.",
        "# TYPE releasegate_background_runs gauge",
        f"releasegate_background_runs {sum(t.is_alive() for t in state.runs)}",
    ]
    return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
