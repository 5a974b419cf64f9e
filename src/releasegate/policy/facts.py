"""The store facts policy decides on, as plain frozen values (policy never imports the store).

``cli/policy_facts.py`` builds a :class:`PolicyFacts` from the store; tests build one by hand.
All times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

ALL_ENVIRONMENTS = frozenset({"all", "*"})
"""An environment name on a freeze, campaign or incident that means every environment."""


def applies_to(target: str, env: str) -> bool:
    """Does a fact recorded for ``target`` apply to environment ``env``?"""
    return target == env or target in ALL_ENVIRONMENTS


@dataclass(frozen=True)
class ApprovalFact:
    """Someone signed ``role`` for ``version`` in ``environment``."""

    environment: str
    version: str
    role: str
    user: str
    at: datetime
    id: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class IncidentFact:
    """An incident; it freezes deployments while open if severe enough."""

    id: int
    title: str
    severity: str
    environment: str
    opened_at: datetime
    closed_at: datetime | None = None
    impact: float = 100.0

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True)
class FreezeFact:
    """An ad-hoc freeze: no deployments to ``environment`` in ``[start, end)``."""

    id: int
    environment: str
    start: datetime
    end: datetime
    reason: str
    hard: bool = False


@dataclass(frozen=True)
class CampaignFact:
    """A marketing campaign at ``at``: no deployments within ``buffer`` of it."""

    id: int
    name: str
    at: datetime
    buffer: timedelta
    environment: str


@dataclass(frozen=True)
class DeploymentFact:
    """What policy needs to know of a past deployment (for promotion and soak)."""

    id: int
    environment: str
    version: str
    kind: str
    status: str
    finished_at: datetime | None = None


@dataclass(frozen=True)
class PolicyFacts:
    """Everything from the store that a decision depends on."""

    approvals: tuple[ApprovalFact, ...] = ()
    incidents: tuple[IncidentFact, ...] = ()
    freezes: tuple[FreezeFact, ...] = ()
    campaigns: tuple[CampaignFact, ...] = ()
    deployments: tuple[DeploymentFact, ...] = field(default=())
