"""The policy check the deployment commands run before anything is recorded or run."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pydantic import JsonValue

from releasegate.cli.context import Globals
from releasegate.engine.api import Engine
from releasegate.engine.plan import Plan
from releasegate.errors import PolicyDenied


def enforce_policy(
    g: Globals,
    engine: Engine,
    plan: Plan,
    *,
    emergency: bool,
    override_freeze: bool,
    demo_override: str | None = None,
    bootstrap: bool = False,
) -> dict[str, JsonValue]:
    """The policy decision for ``plan`` now, as JSON to record with the deployment.

    Raises PolicyDenied (exit 3, with the explanation) when policy refuses — and records
    the refusal as a ``deployment.blocked`` event. ``demo_override`` (used only by
    ``releasegate demo``) lets a deployment refused by *time* rules (window, freezes,
    soak) go on, recording why; with ``bootstrap`` it covers every rule (the demo's first
    deployments stand for versions that were live before releasegate).
    """
    from releasegate.cli.policy_facts import policy_facts_from_store
    from releasegate.policy.api import check_deploy

    env = engine.config.environments[plan.environment]
    facts = policy_facts_from_store(
        engine.store, plan.environment, version=plan.version, promote_from=env.promote_from
    )
    decision = check_deploy(
        engine.config,
        plan.environment,
        plan.version,
        plan.kind,
        g.user,
        facts,
        datetime.now(UTC),
        emergency=emergency,
        override_freeze=override_freeze,
    )
    record: dict[str, JsonValue] = json.loads(json.dumps(decision.to_json(), default=str))
    record["user"] = g.user
    if not decision.allowed:
        only_time = all(r.time_based for r in decision.denied)
        if demo_override is None or not (only_time or bootstrap):
            engine.store.append_event("deployment.blocked", record)
            raise PolicyDenied(decision.summary(), explanation=decision.explain())
        record["demo_override"] = demo_override
        engine.store.append_event("policy.demo_override", record)
    return record


def open_obligations(engine: Engine, deployment_id: int) -> None:
    """After an emergency deployment: close monitoring and a post-mortem, with deadlines."""
    from releasegate.policy.api import emergency_obligations

    for o in emergency_obligations(engine.config, datetime.now(UTC)):
        engine.store.add_obligation(
            deployment_id=deployment_id, kind=o.kind, text=o.text, due_at=o.due_at
        )
