"""Gather the store facts policy decides on."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from releasegate.policy.facts import (
    ApprovalFact,
    CampaignFact,
    DeploymentFact,
    FreezeFact,
    IncidentFact,
    PolicyFacts,
)
from releasegate.store.records import (
    ApprovalRecord,
    CampaignRecord,
    DeploymentSummary,
    FreezeRecord,
    IncidentRecord,
)

ALL = "all"
"""How policy facts name "every environment" (the store keeps ``None``)."""

_HISTORY = 500


class FactSource(Protocol):
    """The part of the store that policy facts come from."""

    def list_approvals(self, environment: str, version: str) -> list[ApprovalRecord]: ...
    def list_incidents(self, *, include_closed: bool = False) -> list[IncidentRecord]: ...
    def list_freezes(self) -> list[FreezeRecord]: ...
    def list_campaigns(self) -> list[CampaignRecord]: ...
    def list_deployment_summaries(
        self, *, environment: str | None = None, limit: int | None = 500
    ) -> list[DeploymentSummary]: ...


def approval_fact(record: ApprovalRecord) -> ApprovalFact:
    """An approval as policy sees it."""
    return ApprovalFact(
        environment=record.environment, version=record.version, role=record.role,
        user=record.user, at=record.created_at, id=record.id, note=record.note,
    )


def policy_facts_from_store(
    store: FactSource, env: str, *, version: str | None = None, promote_from: str | None = None
) -> PolicyFacts:
    """The facts a decision about ``env`` needs: approvals of ``version``, open incidents,
    freezes, campaigns, and the recent deployments of ``env`` and ``promote_from``."""
    approvals = (
        tuple(approval_fact(a) for a in store.list_approvals(env, version)) if version else ()
    )
    incidents = tuple(
        IncidentFact(
            id=i.id, title=i.title, severity=i.severity, environment=i.environment or ALL,
            opened_at=i.opened_at, closed_at=i.closed_at, impact=i.impact,
        )
        for i in store.list_incidents()
    )
    freezes = tuple(
        FreezeFact(
            id=f.id, environment=f.environment or ALL, start=f.start, end=f.end,
            reason=f.reason, hard=f.hard,
        )
        for f in store.list_freezes()
    )
    campaigns = tuple(
        CampaignFact(
            id=c.id, name=c.name, at=c.at, buffer=timedelta(seconds=c.buffer_s),
            environment=c.environment or ALL,
        )
        for c in store.list_campaigns()
    )
    deployments: list[DeploymentFact] = []
    for name in dict.fromkeys(e for e in (env, promote_from) if e):
        deployments.extend(
            DeploymentFact(
                id=d.id, environment=d.environment, version=d.version, kind=d.kind,
                status=d.status, finished_at=d.finished_at,
            )
            for d in store.list_deployment_summaries(environment=name, limit=_HISTORY)
        )
    return PolicyFacts(
        approvals=approvals, incidents=incidents, freezes=freezes, campaigns=campaigns,
        deployments=tuple(deployments),
    )
