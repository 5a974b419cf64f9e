"""Notifications per event: queued, sent in the background with retries, never in the way.

>>> notes = Notifications(config.notify, config.contacts, config.notifications,
...                       resolve=secrets.resolve, on_result=store_delivery)
>>> await notes.start()
>>> notes.publish("deployment.started", {"deployment": {...}}, deployment_id=7)  # O(1)
>>> deliveries = await notes.aclose(timeout=30)  # what became of each message

:meth:`Notifications.publish` only puts the message on a bounded queue and returns: a slow
or failing service never delays or fails a deployment. A full queue drops the message
(recorded as ``dropped``). Each failure is retried with a doubling pause; what became of
every message is a :class:`Delivery`, handed to ``on_result`` and returned by ``aclose``.

Routes (``notify:``) get their events at once. Emergency contacts (``contacts:``) get an
*urgent* event (``notifications.urgent``) if they are available now — and if none of
them is, whoever is available first; any other event waits for each contact's business
hours (``deferred``, sent then by a long-running process, or returned undelivered).
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import JsonValue

from releasegate.config.records_models import Contact, NotificationSettings, NotifyRoute
from releasegate.drivers.notifiers.apprise_send import Destination, destination, send_now
from releasegate.drivers.notifiers.availability import available, next_available
from releasegate.drivers.notifiers.messages import Message, load_template, render
from releasegate.errors import DriverError

DeliveryStatus = Literal["sent", "failed", "dropped", "deferred"]
Sender = Callable[[Destination, Message, float], None]
_WORKERS = 4


@dataclass(frozen=True)
class Delivery:
    """What became of one message to one destination (``destination`` is redacted)."""

    event: str
    destination: str
    status: DeliveryStatus
    attempts: int
    error: str | None = None
    deployment_id: int | None = None
    due_at: datetime | None = None


@dataclass(frozen=True)
class _Recipient:
    dest: Destination
    on: tuple[str, ...]
    template: str | None
    contact: Contact | None


@dataclass
class _Job:
    recipient: _Recipient
    event: str
    data: Mapping[str, JsonValue]
    deployment_id: int | None
    due_at: datetime | None = None
    attempts: int = field(default=0)


def _send(dest: Destination, message: Message, timeout: float) -> None:
    send_now(dest, title=message.title, body=message.body, timeout=timeout)


def matches(event: str, patterns: Sequence[str]) -> bool:
    """Whether ``event`` matches one of the ``on:`` patterns (``deployment.*``)."""
    return any(fnmatch.fnmatchcase(event, p) for p in patterns)


class Notifications:
    """The notification queue of one process. Build it where the config is loaded;
    invalid URLs and templates raise here, not when an event happens."""

    def __init__(
        self,
        routes: Sequence[NotifyRoute],
        contacts: Sequence[Contact] = (),
        settings: NotificationSettings | None = None,
        *,
        resolve: Callable[[str], str] = lambda v: v,
        workdir: Path | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_result: Callable[[Delivery], None] | None = None,
        sender: Sender = _send,
    ) -> None:
        self.settings = settings or NotificationSettings()
        self._clock = clock
        self._on_result = on_result
        self._sender = sender
        self._recipients = [
            _Recipient(destination(resolve(r.url), where=f"notify[{i}].url"), tuple(r.on),
                       load_template((workdir or Path.cwd()) / r.template) if r.template else None,
                       None)
            for i, r in enumerate(routes)
        ] + [
            _Recipient(_named(destination(resolve(c.reach), where=f"contacts[{i}].reach"), c.role),
                       tuple(c.on), None, c)
            for i, c in enumerate(contacts)
        ]
        self._queue: asyncio.Queue[_Job] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._timers: dict[asyncio.TimerHandle, _Job] = {}
        self._jobs: dict[int, _Job] = {}
        self.deliveries: list[Delivery] = []

    async def start(self) -> None:
        """Start the senders on the running event loop."""
        self._queue = asyncio.Queue(maxsize=self.settings.queue_size)
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(_WORKERS)]

    def publish(
        self, event: str, data: Mapping[str, JsonValue], *, deployment_id: int | None = None
    ) -> None:
        """Queue ``event`` for everyone who is to hear of it; returns at once."""
        if self._queue is None:
            raise RuntimeError("Notifications.publish before start()")
        now = self._clock()
        contacts: list[_Recipient] = []
        for r in self._recipients:
            if not matches(event, r.on):
                continue
            if r.contact is None:
                self._enqueue(_Job(r, event, data, deployment_id))
            else:
                contacts.append(r)
        for job in self._for_contacts(contacts, event, data, deployment_id, now):
            if job.due_at is None:
                self._enqueue(job)
            else:
                self._defer(job, now)

    def _for_contacts(self, contacts: list[_Recipient], event: str, data: Mapping[str, JsonValue],
                      deployment_id: int | None, now: datetime) -> list[_Job]:
        if not contacts:
            return []
        on_duty = [r for r in contacts if r.contact and available(r.contact, now)]
        if event in self.settings.urgent:
            if on_duty:
                return [_Job(r, event, data, deployment_id) for r in on_duty]
            # nobody is on duty: whoever comes on first, never nobody
            first = min(contacts, key=lambda r: next_available(r.contact, now) if r.contact else now)
            assert first.contact is not None
            return [_Job(first, event, data, deployment_id, next_available(first.contact, now))]
        return [
            _Job(r, event, data, deployment_id,
                 None if r in on_duty or r.contact is None else next_available(r.contact, now))
            for r in contacts
        ]

    def _enqueue(self, job: _Job) -> None:
        assert self._queue is not None
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            self._result(job, "dropped", f"the queue of {self.settings.queue_size} was full")

    def _defer(self, job: _Job, now: datetime) -> None:
        loop = asyncio.get_running_loop()
        delay = (job.due_at - now).total_seconds() if job.due_at else 0.0

        def due() -> None:
            self._timers.pop(handle, None)
            job.due_at = None
            self._enqueue(job)

        handle = loop.call_later(max(delay, 0.0), due)
        self._timers[handle] = job

    async def _worker(self) -> None:
        assert self._queue is not None
        while True:
            job = await self._queue.get()
            self._jobs[id(job)] = job
            try:
                await self._deliver(job)
            finally:
                self._jobs.pop(id(job), None)
                self._queue.task_done()

    async def _deliver(self, job: _Job) -> None:
        message = render(job.event, job.data, job.recipient.template)
        pause = self.settings.retry_delay.total_seconds()
        timeout = self.settings.timeout.total_seconds()
        error = ""
        for attempt in range(1, self.settings.retries + 2):
            job.attempts = attempt
            try:
                await asyncio.to_thread(self._sender, job.recipient.dest, message, timeout)
            except DriverError as exc:
                error = str(exc)
            else:
                self._result(job, "sent", None)
                return
            if attempt <= self.settings.retries:
                await asyncio.sleep(pause)
                pause *= 2
        self._result(job, "failed", error)

    def _result(self, job: _Job, status: DeliveryStatus, error: str | None) -> None:
        delivery = Delivery(job.event, job.recipient.dest.label, status, job.attempts, error,
                            job.deployment_id, job.due_at)
        self.deliveries.append(delivery)
        if self._on_result is not None:
            self._on_result(delivery)

    async def aclose(self, *, timeout: float = 30.0) -> list[Delivery]:
        """Wait up to ``timeout`` seconds for queued messages, then stop. Messages still
        waiting for business hours come back as ``deferred``, unsent ones as ``dropped``."""
        if self._queue is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), timeout)
            while not self._queue.empty():
                self._result(self._queue.get_nowait(), "dropped", "not sent before shutdown")
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for job in self._jobs.values():  # cut off mid-send (a slow service)
            self._result(job, "dropped", "not sent before shutdown")
        self._jobs.clear()
        for handle, job in list(self._timers.items()):
            handle.cancel()
            self._result(job, "deferred", None)
        self._timers.clear()
        return list(self.deliveries)


def _named(dest: Destination, role: str) -> Destination:
    """A contact's destination, recorded by role (its URL's path is hidden)."""
    return Destination(dest.url, f"{role} <{dest.label}>")
