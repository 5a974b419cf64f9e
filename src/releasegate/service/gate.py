"""Deciding policy for a deployment: the facts from the store, the rules, the overrides.

A decision made before the environment's lease is taken is only advice (``plan``,
``policy explain``); ``deploy`` decides again under the lease, and the time rules once more
right before the deploy phase starts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import JsonValue

from releasegate.config.models import Config
from releasegate.errors import UsageError
from releasegate.identity import Actor
from releasegate.policy.api import Decision, check_deploy
from releasegate.service.facts import FactSource, policy_facts_from_store


@dataclass(frozen=True)
class Request:
    """What is asked for, as policy sees it."""

    environment: str
    version: str | None
    kind: str
    emergency: bool = False
    override_freeze: bool = False
    overrides: tuple[str, ...] = ()
    reason: str | None = None


@dataclass(frozen=True)
class Verdict:
    """A decision, the overrides applied to it, and what to record."""

    decision: Decision
    overridden: tuple[str, ...]
    record: dict[str, JsonValue]

    @property
    def allowed(self) -> bool:
        return self.decision.allowed or not self.refusing

    @property
    def refusing(self) -> tuple[str, ...]:
        return tuple(r.rule for r in self.decision.denied if r.rule not in self.overridden)

    def summary(self) -> str:
        names = ", ".join(self.refusing)
        return f"{self.decision.environment}: deployment blocked by policy ({names})"


def decide(
    config: Config,
    store: FactSource,
    actor: Actor,
    request: Request,
    *,
    now: datetime | None = None,
) -> Verdict:
    """Judge ``request`` now, with ``actor``'s overrides applied (they must name rules)."""
    env = config.environments[request.environment]
    facts = policy_facts_from_store(
        store, request.environment, version=request.version, promote_from=env.promote_from
    )
    decision = check_deploy(
        config,
        request.environment,
        request.version,
        request.kind,
        actor.name,
        facts,
        now or datetime.now(UTC),
        emergency=request.emergency,
        override_freeze=request.override_freeze,
    )
    known = [r.rule for r in decision.results]
    for name in request.overrides:
        if name not in known:
            raise UsageError(
                f"--override {name!r}: not a rule of {request.environment} "
                f"(its rules: {', '.join(known)})"
            )
    overridden = tuple(r.rule for r in decision.denied if r.rule in request.overrides)
    record: dict[str, JsonValue] = json.loads(json.dumps(decision.to_json(), default=str))
    record["user"] = actor.name
    record["actor"] = actor.to_json()
    if overridden:
        record["overridden"] = list[JsonValue](overridden)
        record["override_reason"] = request.reason
    return Verdict(decision, overridden, record)
