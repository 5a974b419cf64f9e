"""What the store returns: frozen dataclasses, never ORM objects.

All datetimes are timezone-aware UTC. JSON columns hold ``dict[str, JsonValue]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, NamedTuple, get_args

from pydantic import JsonValue

JsonDict = dict[str, JsonValue]

DeploymentStatus = Literal[
    "pending",
    "running",
    "succeeded",
    "failed",
    "rolling_back",
    "rolled_back",
    "rollback_failed",
    "cancelled",
    "interrupted",
    "checked",
    "check_failed",
    "blocked",
]
DEPLOYMENT_STATUSES: tuple[DeploymentStatus, ...] = get_args(DeploymentStatus)
FINAL_STATUSES: frozenset[str] = frozenset(
    {"succeeded", "failed", "rolled_back", "rollback_failed", "cancelled", "checked", "check_failed",
     "blocked"}
)
"""``checked``/``check_failed`` end a ``releasegate check`` run (gates only, nothing deployed);
``blocked``: policy refused under the lease, before anything changed."""

StepStatus = Literal["succeeded", "failed", "skipped", "warned", "cancelled", "timed_out"]
STEP_STATUSES: tuple[StepStatus, ...] = get_args(StepStatus)

ObligationKind = Literal["monitor", "postmortem"]
OBLIGATION_KINDS: tuple[ObligationKind, ...] = get_args(ObligationKind)

Via = Literal["single-person", "trust", "os", "ssh", "token", "sso", "system"]
"""How an identity was established (``identity.actor.Via``; a test keeps the two equal)."""
VIAS: tuple[Via, ...] = get_args(Via)


@dataclass(frozen=True)
class ReleaseRecord:
    """A version seen for an environment (the release catalogue)."""

    id: int
    environment: str
    version: str
    commit: str | None
    created_at: datetime


@dataclass(frozen=True)
class DeploymentRecord:
    """One deployment (or rollback) of a version to an environment."""

    id: int
    environment: str
    version: str
    kind: str
    status: str
    user: str
    reason: str | None
    emergency: bool
    commit: str | None
    rollback_of: int | None
    plan: JsonDict
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    detail: str | None
    os_user: str | None = None
    via: str | None = None
    project: str | None = None
    """The project it belongs to (one store may hold many); None: the config's project."""
    duration_s: float | None = None
    """Seconds from start to finish, stored when it finished (for the metrics)."""


@dataclass(frozen=True)
class DeploymentSummary:
    """A deployment without its plan: what policy and listings need, cheaply."""

    id: int
    environment: str
    version: str
    kind: str
    status: str
    finished_at: datetime | None


class DeploymentListing(NamedTuple):
    """A deployment as a listing shows it: no plan, no reason, times as ISO 8601 UTC text
    (a page is read and answered as it is: no datetime objects made to be printed)."""

    id: int
    environment: str
    version: str
    kind: str
    status: str
    user: str
    emergency: bool
    created_at: str
    started_at: str | None
    finished_at: str | None
    detail: str | None


@dataclass(frozen=True)
class StepRunRecord:
    """One attempt at one step of a deployment."""

    id: int
    deployment_id: int
    step_id: str
    phase: str
    attempt: int
    status: str
    summary: str
    output: str
    evidence: JsonDict
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class EventRecord:
    """One entry of the append-only, hash-chained audit log."""

    id: int
    deployment_id: int | None
    at: datetime
    type: str
    data: JsonDict
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class AuditReport:
    """The outcome of :meth:`Store.verify_chain`: each problem names the event concerned."""

    ok: bool
    checked: int
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ChainHead:
    """The newest event of the log: what an anchor records outside the database."""

    event_id: int
    hash: str
    at: datetime | None
    """When that event was appended (None for an empty log)."""


@dataclass(frozen=True)
class Anchor:
    """A chain head written outside the database at ``anchored_at``."""

    event_id: int
    hash: str
    anchored_at: datetime


@dataclass(frozen=True)
class LockRecord:
    """The lease one deployment holds on an environment.

    ``token`` is the fencing token: the id of the event that granted this lease, so it
    grows with every acquisition or takeover of the environment's lease.
    """

    environment: str
    deployment_id: int
    holder: str
    acquired_at: datetime
    heartbeat_at: datetime
    expires_at: datetime
    token: int = 0

    def expired(self, now: datetime) -> bool:
        """Whether the lease ran out before ``now`` (and so may be taken over)."""
        return self.expires_at < now


@dataclass(frozen=True)
class ApprovalRecord:
    """A person's approval of a version for an environment, in a role."""

    id: int
    environment: str
    version: str
    role: str
    user: str
    note: str | None
    created_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    os_user: str | None = None
    via: str | None = None
    signature: str | None = None
    payload: str | None = None
    """The exact text that was signed (``signature`` is over it)."""


@dataclass(frozen=True)
class ConfirmationRecord:
    """A person signing a checklist item of a deployment."""

    id: int
    deployment_id: int
    item: str
    user: str
    note: str | None
    created_at: datetime
    os_user: str | None = None
    via: str | None = None
    signature: str | None = None
    payload: str | None = None


@dataclass(frozen=True)
class IncidentRecord:
    """An incident; open ones freeze deployments where policy says so."""

    id: int
    title: str
    severity: str
    impact: float
    environment: str | None
    action: str
    deadline: datetime | None
    opened_by: str
    opened_at: datetime
    closed_by: str | None
    closed_at: datetime | None
    close_note: str | None
    project: str | None = None


@dataclass(frozen=True)
class FreezeRecord:
    """A period when deployments to an environment (or all, if None) are frozen."""

    id: int
    environment: str | None
    start: datetime
    end: datetime
    reason: str
    hard: bool
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class CampaignRecord:
    """A marketing campaign: deployments are kept ``buffer_s`` seconds away from ``at``."""

    id: int
    name: str
    at: datetime
    buffer_s: float
    environment: str | None
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class ObligationRecord:
    """Something owed after a deployment: extended monitoring, a postmortem."""

    id: int
    deployment_id: int
    kind: str
    text: str
    due_at: datetime
    created_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    close_note: str | None


@dataclass(frozen=True)
class BackupRecord:
    """A backup taken (usually before a deployment), with its checksum."""

    id: int
    deployment_id: int | None
    location: str
    checksum: str
    size: int
    duration_s: float
    kind: str
    source: str
    created_at: datetime


@dataclass(frozen=True)
class SampleRecord:
    """Metric values measured at one moment of a verification stage."""

    id: int
    deployment_id: int
    stage: str
    at: datetime
    values: dict[str, float]
