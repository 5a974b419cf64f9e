"""Deployments reach ``notify:`` routes and ``contacts:`` through the apprise dispatcher.

The engine is not told: a :class:`NotifyingReporter` wraps the reporter the use case hands
it and turns its events into notification events. The dispatcher runs on its own thread
and event loop, so a slow or failing service never delays or fails a deployment; each
message's fate is recorded (``record_notification``) by the use case's thread when it
closes the dispatcher.

>>> with notifications(ws) as notes:
...     reporter = NotifyingReporter(view, notes, deployment={...})
...     ...  # the engine runs with ``reporter``
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import JsonValue

from releasegate.service.workspace import Workspace

if TYPE_CHECKING:
    from releasegate.drivers.notifiers.dispatch import Delivery, Notifications
    from releasegate.engine.report import Reporter

_FINISHED = {"succeeded": "deployment.succeeded", "failed": "deployment.failed",
             "rollback_failed": "deployment.failed", "rolled_back": "deployment.rolled_back"}
"""A run's final status → the event people hear of (blocked is told when it is decided;
checks and cancellations are no one's news)."""


class Dispatcher:
    """:class:`Notifications` on a thread of its own; ``publish`` returns at once."""

    def __init__(self, notes: Notifications) -> None:
        self._notes = notes
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="releasegate-notify",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._notes.start(), self._loop).result()

    def publish(self, event: str, data: Mapping[str, JsonValue], deployment_id: int | None) -> None:
        """Queue ``event``; never raises into the caller and never waits for a send."""
        def put() -> None:
            self._notes.publish(event, data, deployment_id=deployment_id)

        self._loop.call_soon_threadsafe(put)

    def close(self, timeout: float) -> list[Delivery]:
        """Wait up to ``timeout`` seconds for what is queued, then stop the thread."""
        try:
            future = asyncio.run_coroutine_threadsafe(self._notes.aclose(timeout=timeout), self._loop)
            return future.result()
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()


@contextlib.contextmanager
def notifications(ws: Workspace) -> Iterator[Dispatcher | None]:
    """A started dispatcher for the config's routes and contacts (None when it has none);
    on exit every message's fate is recorded in the store."""
    config = ws.config
    if not config.notify and not config.contacts:
        yield None
        return
    from releasegate.config.secrets import SecretResolver
    from releasegate.drivers.notifiers.dispatch import Notifications
    from releasegate.errors import ReleasegateError

    try:
        notes = Notifications(config.notify, config.contacts, config.notifications,
                              resolve=SecretResolver(ws.root).resolve, workdir=ws.root)
    except ReleasegateError as exc:
        # an unset secret or a URL apprise refuses: nobody is told, the deployment goes on,
        # and the record says why (the message names the key, never the secret)
        ws.store.append_event("notify.unavailable", {"reason": str(exc)})
        yield None
        return
    dispatcher = Dispatcher(notes)
    dispatcher.start()
    try:
        yield dispatcher
    finally:
        deliveries = dispatcher.close(config.notifications.timeout.total_seconds())
        for d in deliveries:
            ws.store.record_notification(deployment_id=d.deployment_id, event=d.event,
                                         destination=d.destination, status=d.status,
                                         attempts=d.attempts, error=d.error)


class NotifyingReporter:
    """A :class:`Reporter` that passes every event on and publishes the ones people are
    to hear of: started, blocked (and the approvals it waits for), succeeded, failed,
    rolled back, and a ``sign.`` step waiting for a confirmation."""

    def __init__(self, inner: Reporter | None, dispatcher: Dispatcher, *, deployment: dict[str, JsonValue],
                 confirmations: Mapping[str, str] | None = None, hold_success: bool = False) -> None:
        self._inner = inner
        self._dispatcher = dispatcher
        self._deployment = dict(deployment)
        self._confirmations = dict(confirmations or {})
        self._started: datetime | None = None
        self._hold_success = hold_success
        self._held: dict[str, JsonValue] | None = None

    def release_held(self, announce: Callable[[int], str | None]) -> None:
        """Publish a held ``deployment.succeeded`` with the deployment's announcement
        (``announce(id)``, rendered once the run's records are complete: outages and the
        release's going live are written after the engine reports the end). Never raises."""
        held, self._held = self._held, None
        if held is None:
            return
        dep_id = self._deployment.get("id")
        try:
            text = announce(dep_id) if isinstance(dep_id, int) else None
        except Exception:  # noqa: BLE001 — telling people must never break the deployment
            text = None
        self._publish("deployment.succeeded", **held, announcement=text)

    def event(self, type: str, data: Mapping[str, JsonValue]) -> None:
        if self._inner is not None:
            self._inner.event(type, data)
        try:
            self._notify(type, data)
        except Exception:  # noqa: BLE001 — telling people must never break the deployment
            return

    def _publish(self, event: str, **extra: JsonValue) -> None:
        dep_id = self._deployment.get("id")
        self._dispatcher.publish(event, {"deployment": dict(self._deployment), **extra},
                                 dep_id if isinstance(dep_id, int) else None)

    def _notify(self, type: str, data: Mapping[str, JsonValue]) -> None:
        if isinstance(data.get("id"), int):
            self._deployment["id"] = data["id"]
        if type == "deployment.started":
            self._started = datetime.now(UTC)
            self._publish("deployment.started")
        elif type == "deployment.blocked":
            self._publish("deployment.blocked", detail=data.get("summary"))
            for role in _approvals_missing(data.get("policy")):
                self._publish("approval.requested", role=role)
        elif type == "deployment.finished":
            event = _FINISHED.get(str(data.get("status")))
            if event == "deployment.succeeded" and self._deployment.get("kind") == "rollback":
                event = "deployment.rolled_back"  # a manual rollback that worked
            if event is not None:
                took = (datetime.now(UTC) - self._started).total_seconds() if self._started else None
                from releasegate.metrics.format import duration

                extra: dict[str, JsonValue] = {
                    "detail": data.get("detail"), "duration": duration(took) if took is not None else None,
                }
                if event == "deployment.succeeded" and self._hold_success:
                    self._held = extra  # published by release_held, with the announcement
                else:
                    self._publish(event, **extra)
        elif type == "step.started" and str(data.get("step", "")).startswith("sign."):
            item = str(data["step"]).removeprefix("sign.")
            if data.get("attempt") in (None, 1):
                self._publish("confirmation.requested", item=item,
                              text=self._confirmations.get(item, str(data.get("title") or item)))


def _approvals_missing(policy: JsonValue) -> list[str]:
    """The roles whose approval a refusal waits for (rules ``approval:ROLE`` that deny)."""
    if not isinstance(policy, dict):
        return []
    results = policy.get("results")
    return [
        str(r["rule"]).removeprefix("approval:")
        for r in (results if isinstance(results, list) else [])
        if isinstance(r, dict) and str(r.get("rule", "")).startswith("approval:") and r.get("verdict") == "deny"
    ]


def notify_overdue(ws: Workspace, dispatcher: Dispatcher, now: datetime | None = None) -> int:
    """Publish ``obligation.overdue`` once for each open obligation past its due time
    (an ``obligation.overdue_notified`` event remembers it); returns how many."""
    now = now or datetime.now(UTC)
    store = ws.store
    told = {e.data.get("obligation_id") for e in store.list_events(types=("obligation.overdue_notified",))}
    count = 0
    for o in store.list_obligations(open_only=True):
        if o.due_at >= now or o.id in told:
            continue
        store.append_event("obligation.overdue_notified", {"obligation_id": o.id},
                           deployment_id=o.deployment_id)
        dispatcher.publish("obligation.overdue", {
            "kind": o.kind, "deployment_id": o.deployment_id, "text": o.text,
            "due_at": f"{o.due_at.astimezone(UTC):%Y-%m-%d %H:%M UTC}", "obligation_id": o.id,
        }, o.deployment_id)
        count += 1
    return count
