"""``deploy --when-allowed``: a queued deployment that starts by itself once policy allows.

Its job waits outside the environment's order (no procrastinate lock) until the moment
policy named; then policy is decided again, from the store as it is at that moment. Allowed:
the deployment is queued to run, in order, like any other (and ``deploy`` decides once more
under the lease). Not yet: it waits again, and ``status`` shows why. Past ``--until``: it
expires.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from releasegate.identity import actor_for
from releasegate.service import jobs
from releasegate.service.gate import Request, decide
from releasegate.service.queue import why_waiting
from releasegate.service.queue_run import Retry, WorkerSettings, _expired
from releasegate.service.workspace import Workspace
from releasegate.store.queue import QueuedRecord


def start_when_allowed(settings: WorkerSettings, queued: int, app: object) -> str:
    """Decide again for waiting deployment ``queued``; queue it to run when allowed."""
    with tempfile.TemporaryDirectory(prefix="releasegate-decide-") as tmp:
        config = Path(tmp) / "releasegate.yaml"
        ws = Workspace(config_path=config, db_url=settings.db_url, check_drivers=False)
        try:
            record = ws.store.get_queued(queued)
            if record is None or record.status != "waiting":
                return "nothing to do"
            if record.not_after is not None and record.not_after <= datetime.now(UTC):
                return ws.store.end_queued(queued, "expired", detail=_expired(record)).status
            config.write_text(record.config_text)
            return _decide(ws, record, app)
        finally:
            ws.close()


def _decide(ws: Workspace, record: QueuedRecord, app: object) -> str:
    actor = actor_for(ws.config, record.user, via=record.via or "trust",  # type: ignore[arg-type]
                      os_user=record.os_user or "unknown")
    options = record.options
    verdict = decide(ws.config, ws.store, actor, Request(
        record.environment, record.version, record.kind,
        emergency=bool(options.get("emergency")),
        overrides=tuple(str(o) for o in options.get("overrides") or []),  # type: ignore[union-attr]
        reason=str(options["reason"]) if options.get("reason") else None,
    ))
    if not verdict.allowed:
        reason, at = why_waiting(verdict)
        if record.not_after is not None:
            at = min(at, record.not_after)
        if ws.store.wait_queued(record.id, reason=reason) is None:
            return "nothing to do"  # cancelled while policy was decided
        raise Retry(reason, after_s=max((at - datetime.now(UTC)).total_seconds(), 0.5))
    if ws.store.ready_queued(record.id) is None:
        return "nothing to do"  # cancelled while policy was decided: no job to run it
    job = jobs.defer(
        app, jobs.RUN, queued=record.id, queue=record.queue,  # type: ignore[arg-type]
        lock=jobs.env_lock(record.project, record.environment), queueing_lock=None,
    )
    ws.store.set_job(record.id, job)
    return "queued"
