"""Graceful shutdown: on SIGTERM a worker finishes the step it is in, hands each deployment
back (its lease expires at once, its job goes back to the queue) and exits.

A deployment is handed back between steps only — never while a step runs — and never in
the middle of its deploy phase (the engine's resume rolls a half-done deploy phase back):
another worker's resume finds nothing interrupted and continues with the next step. Jobs that are
not inside a deployment (a checkout, a policy decision) end as usual.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping

from pydantic import JsonValue

from releasegate.service.queue import QueuedRecord


class Shutdown:
    """What the worker's jobs share: whether it is stopping, and who is parked."""

    def __init__(self, hand_back: Callable[[QueuedRecord, int], None],
                 exit: Callable[[int], None] = os._exit) -> None:
        self.stopping = threading.Event()
        self._hand_back = hand_back
        self._exit = exit
        self._lock = threading.Lock()
        self._active: set[int] = set()
        self._parked: set[int] = set()

    def started(self, queued: int) -> None:
        with self._lock:
            self._active.add(queued)

    def ended(self, queued: int) -> None:
        with self._lock:
            self._active.discard(queued)
            self._exit_if_all_parked()

    def _exit_if_all_parked(self) -> None:
        if self.stopping.is_set() and self._parked and self._parked >= self._active:
            self._exit(0)

    def reporter(self, record: QueuedRecord) -> Watcher:
        return Watcher(self, record)

    def park(self, record: QueuedRecord, deployment_id: int) -> None:
        """Hand ``record``'s deployment back and block this job's thread for good (the
        process exits once every running job is parked or done)."""
        self._hand_back(record, deployment_id)
        with self._lock:
            self._parked.add(record.id)
            self._exit_if_all_parked()
        threading.Event().wait()


class Watcher:
    """A reporter on one job: counts the steps in flight, parks between two steps."""

    def __init__(self, shutdown: Shutdown, record: QueuedRecord) -> None:
        self.shutdown, self.record = shutdown, record
        self.deployment_id: int | None = None
        self.running: set[str] = set()
        self.phase = ""

    def event(self, type: str, data: Mapping[str, JsonValue]) -> None:
        if type == "deployment.started" and isinstance(data.get("id"), int):
            self.deployment_id = int(data["id"])  # type: ignore[arg-type]
        elif type == "step.started":
            self.running.add(str(data.get("step")))
        elif type == "phase.started":
            self.phase = str(data.get("phase"))
        elif type == "step.finished":
            self.running.discard(str(data.get("step")))
        else:
            return
        if (self.shutdown.stopping.is_set() and not self.running and self.phase != "deploy"
                and self.deployment_id is not None):
            self.shutdown.park(self.record, self.deployment_id)
