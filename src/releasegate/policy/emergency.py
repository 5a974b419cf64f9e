"""The emergency (hotfix) path: who may take it, what it overrides, what it obliges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from releasegate.config.models import Config
from releasegate.policy.decision import RuleResult
from releasegate.policy.labels import human_duration, utc_label


@dataclass(frozen=True)
class EmergencyGrant:
    """What the emergency path lets this user override."""

    result: RuleResult | None
    soft: bool
    """Window and non-hard freezes (holidays, peaks, campaigns, incidents, soft ad-hoc)."""
    hard: bool
    """Hard freezes too (``--override-freeze`` by one of ``override_freeze_roles``)."""


def check_emergency(config: Config, user: str, *, emergency: bool, override_freeze: bool) -> EmergencyGrant:
    """The ``emergency`` rule result and the overrides it grants."""
    rules = config.emergency
    held = config.roles_of(user)
    if not emergency:
        if override_freeze:
            why = "--override-freeze applies only to an emergency deployment (--emergency)"
            return EmergencyGrant(RuleResult("emergency", False, why), False, False)
        return EmergencyGrant(None, False, False)
    allowed_roles = sorted(held & set(rules.roles))
    if not allowed_roles:
        why = (
            f"{user} may not take the emergency path: it needs one of the roles "
            f"{', '.join(rules.roles)} ({user} holds {', '.join(sorted(held)) or 'none'})"
        )
        return EmergencyGrant(RuleResult("emergency", False, why), False, False)
    if override_freeze:
        admin = sorted(held & set(rules.override_freeze_roles))
        if not admin:
            why = (
                f"{user} may not override a hard freeze: it needs one of the roles "
                f"{', '.join(rules.override_freeze_roles)}"
            )
            return EmergencyGrant(RuleResult("emergency", False, why), False, False)
        why = f"emergency by {user} ({', '.join(allowed_roles)}), overriding hard freezes as {admin[0]}"
        return EmergencyGrant(RuleResult("emergency", True, why), True, True)
    why = f"emergency by {user} ({', '.join(allowed_roles)}): window and soft freezes are overridden"
    return EmergencyGrant(RuleResult("emergency", True, why), True, False)


@dataclass(frozen=True)
class Obligation:
    """Something the emergency path obliges people to do by ``due_at``."""

    kind: str
    text: str
    due_at: datetime


def emergency_obligations(config: Config, released_at: datetime) -> tuple[Obligation, ...]:
    """Close monitoring after the release and a post-mortem, as the checklist demands."""
    rules = config.emergency
    monitor_until = released_at + rules.monitor_for
    return (
        Obligation(
            "monitor",
            f"monitor closely for {human_duration(rules.monitor_for)} after the release "
            f"(until {utc_label(monitor_until)}): on-call engineer assigned, rollback plan ready",
            monitor_until,
        ),
        Obligation(
            "postmortem",
            f"post-mortem within {human_duration(rules.postmortem_within)}: root cause, "
            "prevention measures, process improvements",
            released_at + rules.postmortem_within,
        ),
    )
