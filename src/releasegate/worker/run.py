"""Running a worker: register, take jobs, send heartbeats, stop gracefully on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from dataclasses import dataclass
from pathlib import Path

from releasegate.service import jobs
from releasegate.service.queue_run import WorkerSettings, hand_back
from releasegate.service.threads import before_threads
from releasegate.worker.app import build
from releasegate.worker.shutdown import Shutdown


@dataclass(frozen=True)
class Options:
    """``releasegate worker``'s options."""

    db_url: str
    queues: tuple[str, ...] = ()
    concurrency: int = 1
    cache: Path = Path.home() / ".cache" / "releasegate" / "worker"
    lease_ttl_s: float = 30.0
    heartbeat_s: float = 5.0
    stalled_after_s: float = 15.0
    recover_every_s: int = 5


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run(options: Options) -> int:
    """Run until SIGTERM/SIGINT; the exit code."""
    before_threads()
    jobs.ensure_schema(options.db_url)
    settings = WorkerSettings(
        db_url=options.db_url, cache=options.cache, name=worker_name(),
        lease_ttl_s=options.lease_ttl_s,
    )
    shutdown = Shutdown(lambda record, dep: hand_back(settings, record, dep))
    settings.reporters.append(shutdown.reporter)
    app = build(settings, shutdown, stalled_after_s=options.stalled_after_s,
                recover_every_s=options.recover_every_s)
    return asyncio.run(_serve(app, options, shutdown))


async def _serve(app: object, options: Options, shutdown: Shutdown) -> int:
    from procrastinate.worker import Worker

    async with app.open_async():  # type: ignore[attr-defined]
        worker = Worker(
            app=app,  # type: ignore[arg-type]
            queues=list(options.queues) or None, concurrency=options.concurrency,
            name=worker_name(), install_signal_handlers=False,
            update_heartbeat_interval=options.heartbeat_s,
            stalled_worker_timeout=options.stalled_after_s,
            fetch_job_polling_interval=1.0,
            delete_jobs="successful",  # the store keeps the record; the queue stays small
        )
        loop = asyncio.get_running_loop()

        def stop() -> None:
            shutdown.stopping.set()
            worker.stop()  # type: ignore[no-untyped-call]

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop)
        await worker.run()  # type: ignore[no-untyped-call]
    return 0
