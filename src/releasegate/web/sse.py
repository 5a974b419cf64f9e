"""Server-Sent Events over a deployment's events: poll the store, send what is new.

Polling keeps the stream the same on SQLite and PostgreSQL and across processes (the
deployment may run in another process or on a worker): the store is the only channel.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

import anyio
from fastapi import Request

from releasegate.service.browse import EventBatch

POLL_S = 0.1
"""How often the store is asked for new events (a step event reaches the page in ~0.1 s)."""
KEEPALIVE_S = 15.0
"""A comment line this often keeps proxies from closing a quiet stream."""


def format_event(event: dict[str, object]) -> str:
    """One SSE message: ``id`` is the audit log id (what ``Last-Event-ID`` resumes from)."""
    data = json.dumps(event, separators=(",", ":"), default=str)
    return f"id: {event['id']}\nevent: {event['type']}\ndata: {data}\n\n"


async def event_stream(
    request: Request, fetch: Callable[[int], EventBatch], after: int
) -> AsyncIterator[str]:
    """Every event after ``after``, then new ones as they are recorded, until the
    deployment has finished (an ``end`` message says so) or the client goes away."""
    quiet = 0.0
    yield "retry: 1000\n\n"
    while True:
        batch = await anyio.to_thread.run_sync(fetch, after)
        for event in batch.events:
            after = int(event["id"])
            yield format_event(event)
        if batch.finished:
            yield "event: end\ndata: {}\n\n"
            return
        if batch.events:
            quiet = 0.0
            continue
        if await request.is_disconnected():
            return
        await anyio.sleep(POLL_S)
        quiet += POLL_S
        if quiet >= KEEPALIVE_S:
            quiet = 0.0
            yield ": keep-alive\n\n"
