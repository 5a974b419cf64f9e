"""Promotion and soak: a version enters an environment only after it succeeded on the
``promote_from`` environment, soaked there for the kind's time, and was not rolled back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from releasegate.config.models import Environment, Soak
from releasegate.policy.decision import RuleResult
from releasegate.policy.facts import DeploymentFact
from releasegate.policy.labels import human_duration, utc_label

_ROLLED_BACK = frozenset({"rolled_back", "rollback_failed"})


@dataclass(frozen=True)
class PromotionVerdict:
    """The two rule results, and from when soak allows (``None``: never by waiting alone)."""

    results: tuple[RuleResult, ...]
    soak_ready_at: datetime | None


def _rolled_back_since(
    version: str, success: DeploymentFact, history: list[DeploymentFact]
) -> DeploymentFact | None:
    assert success.finished_at is not None
    for dep in history:
        if dep.finished_at is None or dep.finished_at <= success.finished_at or dep.id == success.id:
            continue
        if dep.kind == "rollback" and dep.status == "succeeded" and dep.version != version:
            return dep
        if dep.version == version and dep.status in _ROLLED_BACK:
            return dep
    return None


def check_promotion(
    env: str, environment: Environment, version: str | None, kind: str,
    deployments: tuple[DeploymentFact, ...], now: datetime,
) -> PromotionVerdict:
    """Promotion and soak results for ``version`` entering ``env`` at ``now``."""
    source = environment.promote_from
    if source is None:
        why = f"{env} has no promote_from: any version may enter"
        return PromotionVerdict((RuleResult("promotion", True, why, skipped=True),), now)
    if kind == "rollback":
        why = "a rollback returns to a version that already ran here"
        return PromotionVerdict((RuleResult("promotion", True, why, skipped=True),), now)
    if version is None:
        why = f"no --version given (it must have succeeded on {source})"
        return PromotionVerdict((RuleResult("promotion", True, why, skipped=True),), now)
    history = [
        d for d in deployments
        if d.environment == source and d.finished_at is not None and d.finished_at <= now
    ]
    successes = [d for d in history if d.version == version and d.status == "succeeded"]
    if not successes:
        why = f"{version} has not succeeded on {source} yet"
        return PromotionVerdict((RuleResult("promotion", False, why),), None)
    success = max(successes, key=lambda d: (d.finished_at or now, d.id))
    assert success.finished_at is not None
    undone = _rolled_back_since(version, success, history)
    if undone is not None:
        why = (
            f"{version} succeeded on {source} (deployment {success.id}) but was rolled back "
            f"since (deployment {undone.id} at {utc_label(undone.finished_at or now)})"
        )
        return PromotionVerdict((RuleResult("promotion", False, why),), None)
    promoted = RuleResult(
        "promotion", True, f"{version} succeeded on {source} (deployment {success.id}) "
        f"at {utc_label(success.finished_at)}, not rolled back since",
    )
    soak = environment.soak or Soak()
    needed = getattr(soak, kind, soak.normal)
    ready = success.finished_at + needed
    elapsed = now - success.finished_at
    if now >= ready:
        why = f"soaked on {source} for {human_duration(elapsed)} (needs {human_duration(needed)} for {kind})"
        soaked = RuleResult("soak", True, why, time_based=True)
    else:
        why = (
            f"soaked on {source} for {human_duration(elapsed)} of "
            f"{human_duration(needed)} ({kind}); done at {utc_label(ready)}"
        )
        soaked = RuleResult("soak", False, why, time_based=True)
    return PromotionVerdict((promoted, soaked), ready)

