"""The hash chain of the event log: how an event is hashed, and how the chain is checked.

``hash = sha256(prev_hash + canonical JSON of {id, deployment_id, at, type, data})`` where
the canonical JSON has sorted keys, no whitespace and ``at`` in ISO 8601 (UTC). The first
event's ``prev_hash`` is ``GENESIS_HASH`` (64 zeros). A one-row chain head remembers the
last event appended, so that deleting the newest events is detected too. The walk over the
log lives in ``integrity.py``; this module holds the definitions and the problem texts.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from releasegate.store.records import JsonDict


def canonical_json(
    *, id: int, deployment_id: int | None, at: datetime, type: str, data: JsonDict
) -> str:
    """The exact text that is hashed for one event."""
    return json.dumps(
        {
            "id": id,
            "deployment_id": deployment_id,
            "at": at.isoformat(),
            "type": type,
            "data": data,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def event_hash(
    prev_hash: str,
    *,
    id: int,
    deployment_id: int | None,
    at: datetime,
    type: str,
    data: JsonDict,
) -> str:
    """The hash of an event that follows an event hashed ``prev_hash``."""
    body = canonical_json(id=id, deployment_id=deployment_id, at=at, type=type, data=data)
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def envelope(
    *, id: int, deployment_id: int | None, at_iso: str, type_json: str, data_text: str
) -> str:
    """:func:`canonical_json` built from parts already canonical, without re-encoding ``data``.

    ``at_iso`` is ``at.isoformat()``, ``type_json`` the JSON string of the type, and
    ``data_text`` the canonical JSON of the data (as :func:`~releasegate.store.connection.
    canonical_dumps` writes it): the keys of the envelope are in sorted order by hand.
    """
    did = "null" if deployment_id is None else deployment_id
    return (
        f'{{"at":"{at_iso}","data":{data_text},"deployment_id":{did},'
        f'"id":{id},"type":{type_json}}}'
    )


def hash_envelope(prev_hash: str, text: str) -> str:
    """The hash of an event whose canonical JSON is ``text``."""
    return hashlib.sha256((prev_hash + text).encode("utf-8")).hexdigest()


def iso_from_stored(stored: str) -> str:
    """``at.isoformat()`` from the stored form ``YYYY-MM-DD HH:MM:SS.ffffff`` (UTC).

    SQLite keeps datetimes so; PostgreSQL is asked for the same text (``to_char``).
    ``isoformat`` leaves out a zero fraction, and so does this.
    """
    fraction = "" if stored.endswith(".000000") else stored[19:26]
    return f"{stored[:10]}T{stored[11:19]}{fraction}+00:00"


def _span(first: int, last: int) -> str:
    return f"event {first} is" if first == last else f"events {first}-{last} are"


def gap_problem(last_id: int, id: int) -> str:
    """The problem when event ``id`` follows ``last_id`` (0: the start of the log)."""
    if last_id == 0:
        return f"{_span(1, id - 1)} missing (deleted from the start of the log)"
    return f"{_span(last_id + 1, id - 1)} missing (chain broken between {last_id} and {id})"


def link_problem(last_id: int, id: int) -> str:
    """The problem when event ``id`` does not record the hash of the event before it."""
    if last_id == 0:
        return f"event {id} was edited (it does not start the chain)"
    return f"event {last_id} was edited (its hash no longer matches the one event {id} records)"


def head_problems(*, last_id: int, last_hash: str, head_id: int, head_hash: str) -> list[str]:
    """Compare the end of the log (``last_id``, ``last_hash``) with the chain head row."""
    if head_id > last_id:
        missing = head_id - last_id
        what = "event was" if missing == 1 else "events were"
        return [
            f"the last {missing} {what} deleted (the chain head records event "
            f"{head_id}, the log ends at event {last_id})"
        ]
    if head_id < last_id:
        return [f"{_span(head_id + 1, last_id)} not in the chain head (written outside releasegate)"]
    if last_id and head_hash != last_hash:
        return [f"event {last_id} was edited (its hash does not match the chain head)"]
    return []
