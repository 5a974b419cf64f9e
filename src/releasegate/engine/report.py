"""How the engine tells the outside world what it is doing (terminal, JSON lines, tests).

The store is the record; a :class:`Reporter` is only the live view of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from pydantic import JsonValue


class Reporter(Protocol):
    def event(self, type: str, data: Mapping[str, JsonValue]) -> None:
        """Something happened: ``deployment.started``, ``step.started``, ``step.output``,
        ``step.finished``, ``phase.started``, ``rollback.started``, ``deployment.finished``…"""
        ...


class NullReporter:
    def event(self, type: str, data: Mapping[str, JsonValue]) -> None:
        return None


class ListReporter:
    """Keeps every event: for tests."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, JsonValue]]] = []

    def event(self, type: str, data: Mapping[str, JsonValue]) -> None:
        self.events.append((type, dict(data)))

    def types(self) -> list[str]:
        return [t for t, _ in self.events]
