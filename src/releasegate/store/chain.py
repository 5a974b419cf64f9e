"""The hash chain of the event log: how an event is hashed, and how the chain is checked.

``hash = sha256(prev_hash + canonical JSON of {id, deployment_id, at, type, data})`` where
the canonical JSON has sorted keys, no whitespace and ``at`` in ISO 8601 (UTC). The first
event's ``prev_hash`` is :data:`GENESIS_HASH`. A one-row chain head remembers the last
event appended, so that deleting the newest events is detected too.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from releasegate.store.records import AuditReport, JsonDict
from releasegate.store.tables import GENESIS_HASH


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


def _span(first: int, last: int) -> str:
    return f"event {first} is" if first == last else f"events {first}-{last} are"


class ChainChecker:
    """Walks the events in id order and names every edited or missing one."""

    def __init__(self) -> None:
        self.checked = 0
        self.problems: list[str] = []
        self._last_id = 0
        self._last_hash = GENESIS_HASH

    def feed(
        self,
        *,
        id: int,
        deployment_id: int | None,
        at: datetime,
        type: str,
        data: JsonDict,
        prev_hash: str,
        hash: str,
    ) -> None:
        """Check one event; call in ascending id order."""
        self.checked += 1
        gap = id != self._last_id + 1
        if gap and self._last_id == 0:
            self.problems.append(f"{_span(1, id - 1)} missing (deleted from the start of the log)")
        elif gap:
            self.problems.append(
                f"{_span(self._last_id + 1, id - 1)} missing "
                f"(chain broken between {self._last_id} and {id})"
            )
        try:
            computed = event_hash(
                prev_hash, id=id, deployment_id=deployment_id, at=at, type=type, data=data
            )
        except ValueError:  # data no longer serialises (NaN written in by hand)
            computed = ""
        if computed != hash:
            self.problems.append(f"event {id} was edited (hash mismatch)")
        elif not gap and prev_hash != self._last_hash:
            if self._last_id == 0:
                self.problems.append(f"event {id} was edited (it does not start the chain)")
            else:
                self.problems.append(
                    f"event {self._last_id} was edited "
                    f"(its hash no longer matches the one event {id} records)"
                )
        self._last_id = id
        self._last_hash = hash

    def finish(self, *, head_last_id: int, head_last_hash: str) -> AuditReport:
        """Compare the end of the log with the chain head and report."""
        if head_last_id > self._last_id:
            missing = head_last_id - self._last_id
            what = "event was" if missing == 1 else "events were"
            self.problems.append(
                f"the last {missing} {what} deleted (the chain head records event "
                f"{head_last_id}, the log ends at event {self._last_id})"
            )
        elif head_last_id < self._last_id:
            self.problems.append(
                f"{_span(head_last_id + 1, self._last_id)} not in the chain head "
                f"(written outside releasegate)"
            )
        elif self._last_id and head_last_hash != self._last_hash:
            self.problems.append(
                f"event {self._last_id} was edited (its hash does not match the chain head)"
            )
        return AuditReport(ok=not self.problems, checked=self.checked, problems=self.problems)
