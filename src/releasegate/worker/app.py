"""The procrastinate App a worker runs: releasegate's three tasks, registered by name.

* ``releasegate.run_queued`` — run (or resume) a queued deployment;
* ``releasegate.start_when_allowed`` — decide again for a ``--when-allowed`` deployment;
* ``releasegate.recover_stalled`` — periodic: jobs of workers that stopped sending
  heartbeats go back to the queue, and a live worker resumes their deployments.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from releasegate.service import jobs, queue_allowed, queue_run

if TYPE_CHECKING:
    import procrastinate

    from releasegate.worker.shutdown import Shutdown


def _retry_strategy() -> Any:
    from procrastinate import BaseRetryStrategy, RetryDecision

    class OnRetry(BaseRetryStrategy):
        """Retry exactly when the use case says so (:class:`queue_run.Retry`), then."""

        def get_retry_decision(self, *, exception: BaseException, job: Any) -> RetryDecision | None:
            if isinstance(exception, queue_run.Retry):
                return RetryDecision(retry_in={"seconds": max(int(exception.after_s + 0.999), 1)})
            return None

    return OnRetry()


def build(
    settings: queue_run.WorkerSettings, shutdown: Shutdown, *, stalled_after_s: float,
    recover_every_s: int,
) -> procrastinate.App:
    """The App, with the tasks bound to ``settings``."""
    app = jobs.make_app(settings.db_url, min_size=1, max_size=4)
    retry = _retry_strategy()

    @app.task(name=jobs.RUN, retry=retry, pass_context=True)
    def run_queued(context: Any, queued: int) -> str:
        shutdown.started(queued)
        try:
            return queue_run.run_queued(settings, queued)
        finally:
            shutdown.ended(queued)

    @app.task(name=jobs.START_WHEN_ALLOWED, retry=retry)
    def start_when_allowed(queued: int) -> str:
        return queue_allowed.start_when_allowed(settings, queued, app)

    @app.periodic(cron=f"* * * * * */{recover_every_s}", periodic_id="recover")
    @app.task(name=jobs.RECOVER, queueing_lock=jobs.RECOVER)
    async def recover_stalled(timestamp: int) -> list[int]:
        return await jobs.recover_stalled(app, stalled_after_s=stalled_after_s)

    del run_queued, start_when_allowed, recover_stalled
    return app
