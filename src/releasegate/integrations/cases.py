"""One step of a deployment as CI tools see it: a test case that passed, failed or never
ran, with where in ``releasegate.yaml`` the step is written."""

from __future__ import annotations

from dataclasses import dataclass

FAILED = ("failed", "timed_out")
"""A step in one of these ended the way a failed test does."""
BROKEN = ("cancelled", "rollback_failed")
"""Neither passed nor failed: stopped from outside (a JUnit ``error``)."""
NOT_RUN = ("skipped", "not_run", "pending")


@dataclass(frozen=True)
class Case:
    """A step's last attempt (or its absence)."""

    phase: str
    step: str
    title: str
    status: str
    """The step run's status, or ``not_run`` when the deployment ended before it."""
    summary: str = ""
    output: str = ""
    duration_s: float | None = None
    attempts: int = 0
    file: str | None = None
    """The config file, relative to the workspace, when the step is written in it."""
    line: int | None = None

    @property
    def failed(self) -> bool:
        return self.status in FAILED

    @property
    def broken(self) -> bool:
        return self.status in BROKEN

    @property
    def skipped(self) -> bool:
        return self.status in NOT_RUN
