"""The job library behind team mode: procrastinate on the store's PostgreSQL.

Kept to one module so that nothing else knows procrastinate's names. Jobs are deferred by
task *name* (``RUN``, ``START_WHEN_ALLOWED``), so ``deploy --queue`` and the API defer
without importing the worker; the worker (``releasegate.worker``) registers the functions
under these names. A job carries only the queued deployment's id: the rest is in the store
(``queued_deployments``), and secrets are never in either.

* ``lock`` = ``project:environment``: procrastinate runs one job of a lock at a time, in
  the order they were queued — across every worker.
* ``queueing_lock`` = project, environment, action, version and kind: a second identical
  queued deployment is refused while the first waits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from releasegate.errors import LockedError, UsageError

if TYPE_CHECKING:
    import procrastinate

RUN = "releasegate.run_queued"
START_WHEN_ALLOWED = "releasegate.start_when_allowed"
RECOVER = "releasegate.recover_stalled"
_SCHEMA_LOCK = 0x72677163  # "rgqc": applying procrastinate's schema, once


def conninfo(db_url: str) -> str:
    """The libpq URL of a PostgreSQL store URL (UsageError for anything else: team mode
    coordinates through PostgreSQL)."""
    from releasegate.store.connection import parse_url

    url = parse_url(db_url)
    if url.get_backend_name() != "postgresql":
        raise UsageError(
            "team mode (queued deployments, workers) needs the store on PostgreSQL: set "
            "RELEASEGATE_DATABASE_URL=postgresql://USER@HOST/DB (or --db)"
        )
    return str(url.set(drivername="postgresql").render_as_string(hide_password=False))


def make_app(db_url: str, **pool: Any) -> procrastinate.App:
    """A procrastinate App on the store's database (not opened)."""
    import procrastinate

    connector = procrastinate.PsycopgConnector(conninfo=conninfo(db_url), **pool)
    return procrastinate.App(connector=connector)


def ensure_schema(db_url: str) -> None:
    """Apply procrastinate's schema to the store's database unless it is there (serialised
    by an advisory lock: many workers may start at once)."""
    import psycopg
    from procrastinate.schema import SchemaManager

    with psycopg.connect(conninfo(db_url), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        try:
            found = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
            if found is None or found[0] is None:
                conn.execute(SchemaManager.get_schema())
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))


def env_lock(project: str, environment: str) -> str:
    return f"{project}:{environment}"


@contextmanager
def opened(db_url: str) -> Iterator[procrastinate.App]:
    """A synchronous App (for deferring from the CLI, the API and the tests)."""
    ensure_schema(db_url)
    app = make_app(db_url, min_size=1, max_size=2)
    with app.open():
        yield app


def defer(
    app: procrastinate.App, task: str, *, queued: int, queue: str, lock: str | None,
    queueing_lock: str | None, at: datetime | None = None,
) -> int:
    """Defer ``task`` for queued deployment ``queued``; returns the job id. An identical
    job already waiting (``queueing_lock``) raises :class:`LockedError`."""
    from procrastinate import exceptions

    options: dict[str, Any] = {"queue": queue, "lock": lock, "queueing_lock": queueing_lock}
    if at is not None:
        options["schedule_at"] = at
    try:
        return int(app.configure_task(task, **options).defer(queued=queued))
    except exceptions.AlreadyEnqueued:
        raise LockedError(
            f"an identical deployment is already queued ({queueing_lock}): it runs once"
        ) from None


def retry_now(db_url: str, job_id: int) -> None:
    """Put job ``job_id`` back to wait (same lock, same place in its lock's order).

    Through procrastinate's own SQL function on a connection of its own: the caller may be
    inside an event loop (the engine's), where the library's sync bridge refuses to run."""
    import psycopg
    from procrastinate import sql

    with psycopg.connect(conninfo(db_url), autocommit=True) as conn:
        conn.execute(sql.queries["retry_job"], {
            "job_id": job_id, "retry_at": datetime.now(UTC), "new_priority": None,
            "new_queue_name": None, "new_lock": None,
        })


def cancel_job(db_url: str, job_id: int) -> bool:
    """Cancel job ``job_id`` if no worker has taken it yet (procrastinate's
    ``JobManager.cancel_job_by_id``: ``todo`` → ``cancelled``, which also frees its
    queueing lock). False when a worker took it first or it is gone: the store's row,
    cancelled first, is what keeps that worker from running it."""
    with opened(db_url) as app:
        return bool(app.job_manager.cancel_job_by_id(job_id))


def next_runs(db_url: str, job_ids: list[int]) -> dict[int, datetime]:
    """When each of ``job_ids`` that waits for a time is due (a ``--when-allowed``
    deployment's next decision): job id → its ``scheduled_at``."""
    import psycopg

    if not job_ids:
        return {}
    with psycopg.connect(conninfo(db_url)) as conn:
        found = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
        if found is None or found[0] is None:
            return {}
        rows = conn.execute(
            "SELECT id, scheduled_at FROM procrastinate_jobs WHERE id = ANY(%s) "
            "AND status = 'todo' AND scheduled_at IS NOT NULL", (job_ids,)
        ).fetchall()
    return {int(id): at.astimezone(UTC) for id, at in rows}


async def recover_stalled(app: procrastinate.App, *, stalled_after_s: float) -> list[int]:
    """Put back in the queue every job whose worker stopped sending heartbeats for
    ``stalled_after_s`` (killed, or cut off from the database); the job then runs again on
    a live worker, which resumes its deployment. Returns the jobs put back."""
    manager = app.job_manager
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after_s))
    for job in stalled:
        await manager.retry_job(job)
    await manager.prune_stalled_workers(stalled_after_s)
    return [int(job.id) for job in stalled if job.id is not None]


def list_workers(db_url: str) -> list[dict[str, Any]]:
    """Live workers (procrastinate's heartbeats) and the jobs each is running."""
    import psycopg

    ensure_schema(db_url)
    with psycopg.connect(conninfo(db_url)) as conn:
        workers = conn.execute(
            "SELECT id, last_heartbeat, now() - last_heartbeat FROM procrastinate_workers ORDER BY id"
        ).fetchall()
        doing = conn.execute(
            "SELECT worker_id, id, task_name, args FROM procrastinate_jobs "
            "WHERE status = 'doing' ORDER BY id"
        ).fetchall()
    out = []
    for id, beat, age in workers:
        mine = [{"job": j, "task": t, "queued": (a or {}).get("queued")}
                for w, j, t, a in doing if w == id]
        out.append({"worker": id, "last_heartbeat": beat.isoformat(),
                    "heartbeat_age_s": round(age.total_seconds(), 1), "jobs": mine})
    return out


def queue_gauges(db_url: str) -> dict[str, float]:
    """Jobs waiting and running, and the age of the oldest waiting one (for /metrics)."""
    import psycopg

    with psycopg.connect(conninfo(db_url)) as conn:
        found = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
        if found is None or found[0] is None:
            return {"todo": 0.0, "doing": 0.0, "oldest_todo_age_s": 0.0}
        row = conn.execute(
            "WITH ready AS (SELECT id FROM procrastinate_jobs WHERE status = 'todo'"
            " AND (scheduled_at IS NULL OR scheduled_at <= now()))"
            " SELECT (SELECT count(*) FROM ready),"
            " (SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'),"
            " coalesce((SELECT extract(epoch FROM now() - min(at)) FROM procrastinate_events"
            "  WHERE type = 'deferred' AND job_id IN (SELECT id FROM ready)), 0)"
        ).fetchone()
    assert row is not None
    return {"todo": float(row[0]), "doing": float(row[1]), "oldest_todo_age_s": float(row[2])}


LIVE_S = 60.0
"""A worker whose last heartbeat is older than this is not counted as live."""


def live_workers(db_url: str) -> int:
    """How many workers sent a heartbeat in the last :data:`LIVE_S` seconds."""
    import psycopg

    with psycopg.connect(conninfo(db_url)) as conn:
        found = conn.execute("SELECT to_regclass('procrastinate_workers')").fetchone()
        if found is None or found[0] is None:
            return 0
        row = conn.execute(
            "SELECT count(*) FROM procrastinate_workers "
            "WHERE last_heartbeat > now() - make_interval(secs => %s)", (LIVE_S,)
        ).fetchone()
    return int(row[0]) if row else 0
