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
    return "\n".join(lines + _queue_lines(state.workspace)) + "\n"


_QUEUE_GAUGES = {
    "todo": ("releasegate_queue_jobs_waiting", "Jobs ready to run that no worker has taken yet."),
    "doing": ("releasegate_queue_jobs_running", "Jobs workers are running."),
    "oldest_todo_age_s": ("releasegate_queue_oldest_job_age_seconds",
                          "Age of the oldest job ready to run and not taken (0: none)."),
    "queued_queued": ("releasegate_queued_deployments_queued", "Queued deployments not started."),
    "queued_waiting": ("releasegate_queued_deployments_waiting",
                       "Deployments waiting for policy to allow them (--when-allowed)."),
    "queued_running": ("releasegate_queued_deployments_running", "Queued deployments running."),
    "workers": ("releasegate_workers_live", "Workers that sent a heartbeat in the last minute."),
}


def _queue_lines(ws: object) -> list[str]:
    """Team mode's gauges, when the store is PostgreSQL (none on the embedded default)."""
    from releasegate.service import queue

    found = queue.gauges(ws)  # type: ignore[arg-type]
    if found is None:
        return []
    lines: list[str] = []
    for key, (name, help) in _QUEUE_GAUGES.items():
        lines += [f"# HELP {name} {help}", f"# TYPE {name} gauge", f"{name} {found.get(key, 0.0):g}"]
    return lines


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
