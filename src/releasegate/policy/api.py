"""The entry points the engine and the CLI call: one decision, with its explanation.

``check_deploy`` judges every rule (windows, freezes, promotion and soak, approvals, the
emergency path) at one instant and finds the next allowed time; ``validate_approval``
refuses an approval that must not be recorded; ``incident_action`` reads the rollback
decision matrix; ``emergency_obligations`` lists what an emergency release obliges.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from releasegate.config.models import KINDS, Config
from releasegate.errors import ConfigError
from releasegate.policy.approvals import _environment, check_approvals, validate_approval
from releasegate.policy.decision import Decision, RuleResult
from releasegate.policy.emergency import Obligation, check_emergency, emergency_obligations
from releasegate.policy.facts import PolicyFacts
from releasegate.policy.freezes import FreezeSources
from releasegate.policy.matrix import MatrixAction, decide, parse_impact
from releasegate.policy.promotion import check_promotion
from releasegate.policy.timerules import HORIZON, TimeRules
from releasegate.policy.windows import compile_window

__all__ = [
    "HORIZON",
    "Decision",
    "MatrixAction",
    "Obligation",
    "RuleResult",
    "check_deploy",
    "emergency_obligations",
    "incident_action",
    "parse_impact",
    "time_rules",
    "validate_approval",
]


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"policy needs a timezone-aware time, got {now.isoformat()}")
    return now


def time_rules(
    config: Config, env: str, facts: PolicyFacts, *, kind: str = "normal", user: str = "",
    emergency: bool = False, override_freeze: bool = False, not_before: datetime | None = None,
) -> TimeRules:
    """The time-based rules of ``env`` (windows and freezes), with the emergency overrides."""
    _environment(config, env)
    if kind not in KINDS:
        raise ConfigError(f"--kind: {kind!r} is not a release kind (use {', '.join(KINDS)})")
    environment = config.environments[env]
    windows = [
        compile_window(w, f"environments.{env}.window" + (f"[{i}]" if isinstance(environment.window, list) else ""))
        for i, w in enumerate(environment.windows)
    ]
    grant = check_emergency(config, user, emergency=emergency, override_freeze=override_freeze)
    return TimeRules(
        windows=windows, sources=FreezeSources(config, env, facts), grant=grant, kind=kind,
        not_before=not_before, freeze_at=config.incidents.freeze_at,
    )


def check_deploy(
    config: Config, env: str, version: str | None, kind: str, user: str, facts: PolicyFacts,
    now: datetime, *, emergency: bool = False, override_freeze: bool = False,
    horizon: timedelta = HORIZON,
) -> Decision:
    """May ``user`` start deploying ``version`` (of ``kind``) to ``env`` at ``now``?

    Every rule that applies is in ``results``; when refused, ``next_allowed_at`` is the
    first instant at which the time-based rules (windows, freezes, soak) allow.
    """
    now = _aware(now)
    environment = config.environments.get(env)
    if environment is None:
        _environment(config, env)
    assert environment is not None
    promotion = check_promotion(env, environment, version, kind, facts.deployments, now)
    rules = time_rules(
        config, env, facts, kind=kind, user=user, emergency=emergency,
        override_freeze=override_freeze, not_before=promotion.soak_ready_at,
    )
    results: list[RuleResult] = []
    if rules.grant.result is not None:
        results.append(rules.grant.result)
    results.extend(rules.results_at(now))
    results.extend(promotion.results)
    results.extend(check_approvals(config, env, version, kind, user, facts.approvals))
    allowed = all(r.allowed for r in results)
    note = ""
    if allowed:
        next_at: datetime | None = now
    else:
        next_at = rules.next_allowed(now, horizon=horizon)
        if next_at is None:
            note = rules.why_never(now, horizon)
    obligations: tuple[str, ...] = ()
    if emergency and allowed:
        obligations = tuple(o.text for o in emergency_obligations(config, now))
    return Decision(
        environment=env, at=now, allowed=allowed, results=tuple(results),
        next_allowed_at=next_at, next_allowed_note=note, version=version, kind=kind,
        emergency=emergency, obligations=obligations,
    )


def incident_action(config: Config, severity: str, impact: float, opened_at: datetime) -> MatrixAction:
    """The rollback decision matrix's action and deadline for a new incident."""
    return decide(config.incidents, severity, impact, _aware(opened_at))
