"""Shared by the policy tests: configs built from dicts, UTC instants, fact builders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from releasegate.config.models import Config
from releasegate.policy.facts import ApprovalFact, DeploymentFact, PolicyFacts

USERS = {
    "alice": {"roles": ["qa"]},
    "bob": {"roles": ["product-owner", "tech-lead"]},
    "carol": {"roles": ["tech-lead"]},
    "dave": {"roles": ["on-call"]},
    "erin": {"roles": ["on-call", "admin"]},
    "mallory": {"roles": []},
}


def utc(*parts: int) -> datetime:
    """``utc(2026, 11, 8, 10)`` → an aware UTC datetime."""
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def make_config(**production: Any) -> Config:
    """The example's shape; keyword arguments replace keys of ``environments.production``."""
    prod: dict[str, Any] = {
        "window": {"days": ["tue", "wed", "thu"], "hours": "10:00-14:00", "tz": "UTC"},
        "freezes": ["peaks", "incidents", "campaigns"],
    }
    prod.update(production)
    return Config.model_validate(
        {
            "project": "test",
            "users": USERS,
            "calendars": {
                "india": {
                    "holidays": {"country": "IN", "categories": ["public", "optional"]},
                    "tz": "Asia/Kolkata",
                },
                "india-public": {"holidays": {"country": "IN"}, "tz": "Asia/Kolkata"},
                "peaks": {"month_end": {"last_days": 2}, "quarter_end": {"last_days": 5}},
            },
            "environments": {
                "staging": {"window": {"days": ["mon-fri"], "hours": "09:00-18:00", "tz": "Asia/Kolkata"}},
                "production": prod,
            },
        }
    )


def soaked(version: str = "1.2.0", *, at: datetime, env: str = "staging", id: int = 1) -> DeploymentFact:
    return DeploymentFact(id=id, environment=env, version=version, kind="normal", status="succeeded", finished_at=at)


def signed(role: str, user: str, *, version: str = "1.2.0", at: datetime | None = None) -> ApprovalFact:
    return ApprovalFact(
        environment="production", version=version, role=role, user=user,
        at=at or utc(2026, 1, 1), id=None,
    )


NO_FACTS = PolicyFacts()
HOUR = timedelta(hours=1)
