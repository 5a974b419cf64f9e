"""Running a deployment (or rollback) in the server's process, and answering as soon as
it has started: the request learns the deployment's id, or the refusal that came first.

A deployment runs in a thread of its own with a workspace of its own (the embedded
default: no workers); the store records every step, so the pages and the event stream
follow it from there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pydantic import JsonValue

from releasegate.service.results import Outcome
from releasegate.service.workspace import Workspace

STARTED = ("deployment.started", "rollback.started", "deployment.finished")


@dataclass
class Launch:
    """A run started in the background: wait for :meth:`started` to learn how it began.

    It is also the run's reporter (the engine's ``Reporter`` protocol): the engine says
    ``deployment.started`` with the id once the deployment is recorded."""

    deployment_id: int | None = None
    outcome: Outcome | None = None
    error: BaseException | None = None
    _begun: threading.Event = field(default_factory=threading.Event)

    def event(self, type: str, data: Mapping[str, JsonValue]) -> None:
        found = data.get("id")
        if self.deployment_id is None and isinstance(found, int):
            self.deployment_id = found
        if type in STARTED and self.deployment_id is not None:
            self._begun.set()

    def finish(self, outcome: Outcome | None, error: BaseException | None) -> None:
        self.outcome, self.error = outcome, error
        if outcome is not None and self.deployment_id is None:
            self.deployment_id = outcome.deployment_id
        self._begun.set()

    def started(self, timeout: float | None = None) -> bool:
        """Block until the run has a deployment id, or has ended (with an error)."""
        return self._begun.wait(timeout)


def launch(
    factory: Callable[[], Workspace],
    work: Callable[[Workspace, Launch], Outcome],
    runs: list[threading.Thread],
    name: str,
) -> Launch:
    """Start ``work(workspace, launch)`` in a thread; ``runs`` keeps the live threads."""
    import logging

    state = Launch()

    def target() -> None:
        ws = factory()
        try:
            state.finish(work(ws, state), None)
        except Exception as exc:
            if state._begun.is_set():  # nobody is waiting: the log says it
                logging.getLogger("releasegate.web").exception("%s failed", name)
            state.finish(None, exc)
        finally:
            ws.close()

    thread = threading.Thread(target=target, name=f"releasegate-{name}", daemon=True)
    runs[:] = [t for t in runs if t.is_alive()] + [thread]
    thread.start()
    return state
