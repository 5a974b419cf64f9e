"""What the use cases return: plain, JSON-able data."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import JsonValue


@dataclass(frozen=True)
class Outcome:
    """How a deployment (or check, rollback, resume, adopt) ended.

    ``status`` is the deployment's final status (``succeeded``, ``failed``, ``rolled_back``,
    ``rollback_failed``, ``cancelled``, ``checked``, ``check_failed``, ``blocked``)."""

    deployment_id: int | None
    status: str
    detail: str = ""
    environment: str = ""
    version: str = ""
    policy: dict[str, JsonValue] | None = None
    explanation: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Done:
    """A recorded action that is not a deployment (an approval, a freeze, …): its id, one
    line saying what happened, and the data behind it."""

    id: int | None
    text: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, **self.data}
