"""Write deployment histories through the real store, on a clock the test moves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from releasegate.store.api import Store, open_store
from releasegate.store.facts_records import ChangeFact, Records


class RecordsStore(Store, Records):
    """The store as it will be once ``Records`` is one of ``Store``'s bases."""


@dataclass
class Clock:
    """A clock the history moves by hand."""

    now: datetime = field(default_factory=lambda: datetime(2026, 1, 5, 10, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def open_records(url: str, clock: Callable[[], datetime] | None = None) -> RecordsStore:
    """A migrated store with the records mixin."""
    opened = open_store(url)
    return RecordsStore(opened._engine, opened.url, clock=clock)


@dataclass
class History:
    """``history.run(...)`` records one run the way the engine would, minute by minute."""

    store: RecordsStore
    clock: Clock
    project: str = "shop"

    def run(
        self,
        version: str,
        *,
        kind: str = "normal",
        status: str = "succeeded",
        environment: str = "production",
        minutes: float = 10,
        fails_after: float | None = None,
        at_gates: bool = False,
        rollback_of: int | None = None,
        coverage: float | None = None,
        project: str | None = "",
    ) -> int:
        """Start now, take ``minutes``; a failing deploy step ends ``fails_after`` minutes
        in; ``at_gates``: a gate fails and nothing is deployed. Returns the id."""
        d = self.store.create_deployment(
            environment=environment, version=version, kind=kind, user="ana", plan={},
            rollback_of=rollback_of,
        ).id
        label = self.project if project == "" else project
        if label is not None:
            self.store.set_project(d, label)
        self.store.set_deployment_status(d, "running")
        if coverage is not None:
            gate = self.store.start_step(d, step_id="coverage", phase="gates", attempt=1)
            self.store.finish_step(gate.id, status="succeeded", summary="ok",
                                   evidence={"coverage_percent": coverage})
        if at_gates:
            gate = self.store.start_step(d, step_id="tests", phase="gates", attempt=1)
            self.clock.advance(minutes=minutes)
            self.store.finish_step(gate.id, status="failed", summary="tests failed")
            self.store.set_deployment_status(d, status)
            return d
        step = self.store.start_step(d, step_id="release", phase="deploy", attempt=1)
        if fails_after is not None:
            self.clock.advance(minutes=fails_after)
            self.store.finish_step(step.id, status="failed", summary="unhealthy")
            self.clock.advance(minutes=minutes - fails_after)
        else:
            self.clock.advance(minutes=minutes)
            self.store.finish_step(step.id, status="succeeded", summary="live")
        self.store.set_deployment_status(d, status)
        return d

    def release(self, version: str, *, commits_hours_before: list[float],
                environment: str = "production") -> None:
        """Record a release whose changes were first committed that long before now, and
        mark it live now."""
        now = self.clock.now
        changes = [
            ChangeFact(sha=f"{i:040x}", first_commit_at=now - timedelta(hours=h),
                       merged_at=now - timedelta(hours=h / 2), subject=f"change {i}")
            for i, h in enumerate(commits_hours_before)
        ]
        self.store.record_release(
            project=self.project, environment=environment, version=version, kind="normal",
            commit="f" * 40, previous_commit=None, changes=changes,
        )
        self.store.mark_live(project=self.project, environment=environment, version=version, at=now)
