"""Answering a read in one hop: authenticate, call the use case and encode the JSON in a
single worker thread, and hand uvicorn the bytes.

FastAPI's default path for a ``def`` route with a ``def`` dependency costs two thread-pool
hops, then validates the returned dict against the response model and walks it with
``jsonable_encoder`` — on a 2-core machine under 50 connections that was most of a
request's time (benchmarks/RESULTS.md, issue #11). The routes keep their
``response_model`` for the OpenAPI document; a returned :class:`Response` skips it.

Over SQLite the read runs on the event loop itself, no hop at all
(:attr:`~releasegate.web.state.WebState.reads_inline`): the page is read from a local
file in WAL mode, where a reader never waits for a writer, in well under a millisecond
of CPU that the GIL would serialise anyway — and the hop cost 0.4–0.6 ms more. Over
PostgreSQL each statement waits on the network, so the work goes to a thread.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import anyio
from fastapi import Request, Response

from releasegate.identity import Actor
from releasegate.service.workspace import Workspace
from releasegate.web.state import bearer_actor, state_of


def encode(data: object) -> bytes:
    """Compact JSON (the use cases return plain data: str, int, bool, None, lists, dicts)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


async def answer(
    request: Request, work: Callable[[Workspace, Actor], object], *, status: int = 200
) -> Response:
    """``work(workspace, actor)`` as a JSON response; its errors reach the one handler."""
    state = state_of(request)

    def run() -> bytes:
        ws = state.workspace
        return encode(work(ws, bearer_actor(request)))

    if state.reads_inline:
        body = run()
    else:
        body = await anyio.to_thread.run_sync(run)
    return Response(body, status_code=status, media_type="application/json")
