"""Approvals by role: who may sign comes from config (users → roles), each role signed by a
different person when ``distinct_people``, never the deployer unless ``self_approval``, and
an approval is for one version."""

from __future__ import annotations

from collections.abc import Sequence

from releasegate.config.models import Config
from releasegate.config.timespec import did_you_mean
from releasegate.errors import ConfigError, PolicyDenied
from releasegate.policy.decision import RuleResult
from releasegate.policy.facts import ApprovalFact
from releasegate.policy.labels import utc_label


def _environment(config: Config, env: str) -> None:
    if env not in config.environments:
        names = list(config.environments)
        raise ConfigError(
            f"unknown environment {env!r}{did_you_mean(env, names)} (known: {', '.join(names)})"
        )


def _match(roles: list[str], signers: dict[str, list[ApprovalFact]], distinct: bool) -> dict[str, ApprovalFact]:
    """Give each role one approval; with ``distinct`` no person covers two roles (a matching)."""
    if not distinct:
        return {role: signers[role][0] for role in roles if signers[role]}
    owner: dict[str, str] = {}  # person → role
    chosen: dict[str, ApprovalFact] = {}

    def place(role: str, seen: set[str]) -> bool:
        for approval in signers[role]:
            person = approval.user
            if person in seen:
                continue
            seen.add(person)
            if person not in owner or place(owner[person], seen):
                owner[person] = role
                chosen[role] = approval
                return True
        return False

    for role in roles:
        place(role, set())
    return {role: a for role, a in chosen.items() if owner.get(a.user) == role}


def check_approvals(
    config: Config, env: str, version: str | None, kind: str, deployer: str,
    approvals: Sequence[ApprovalFact],
) -> tuple[RuleResult, ...]:
    """One result per required role (or one ``approvals`` result when none are needed)."""
    rules = config.environments[env].approvals
    if rules is None or not rules.roles:
        return (RuleResult("approvals", True, f"{env} needs no approvals", skipped=True),)
    if kind not in rules.kinds:
        return (RuleResult("approvals", True, f"not required for {kind} releases", skipped=True),)
    if version is None:
        why = f"not checked: no --version given (needs {', '.join(rules.roles)})"
        return (RuleResult("approvals", True, why, skipped=True),)
    mine = sorted(
        (a for a in approvals if a.environment == env and a.version == version), key=lambda a: a.at
    )
    signers: dict[str, list[ApprovalFact]] = {}
    refused: dict[str, list[str]] = {}
    for role in rules.roles:
        signers[role], refused[role] = [], []
        for a in (a for a in mine if a.role == role):
            if role not in config.roles_of(a.user):
                refused[role].append(f"{a.user} signed but does not hold the role")
            elif a.user == deployer and not rules.self_approval:
                refused[role].append(f"{a.user} signed but is the deployer (self-approval is off)")
            else:
                signers[role].append(a)
    chosen = _match(list(rules.roles), signers, rules.distinct_people)
    results: list[RuleResult] = []
    for role in rules.roles:
        rule = f"approval:{role}"
        if role in chosen:
            a = chosen[role]
            results.append(RuleResult(rule, True, f"signed by {a.user} at {utc_label(a.at)}"))
            continue
        notes = list(refused[role])
        if signers[role]:
            names = ", ".join(sorted({a.user for a in signers[role]}))
            notes.append(f"{names} already signed another role (each role needs a different person)")
        detail = f" ({'; '.join(notes)})" if notes else ""
        results.append(RuleResult(rule, False, f"no valid {role} sign-off for {version}{detail}"))
    return tuple(results)


def validate_approval(
    config: Config, env: str, version: str, role: str, user: str,
    existing: Sequence[ApprovalFact], deployer: str | None = None,
) -> None:
    """Refuse an approval that must not be recorded; return quietly if it may be.

    Raises :class:`ConfigError` for an unknown environment or a role the environment does
    not ask for, and :class:`PolicyDenied` for a role ``user`` does not hold, a second
    signature by the same person, or the deployer approving their own deployment.
    """
    _environment(config, env)
    rules = config.environments[env].approvals
    if rules is None or not rules.roles:
        raise ConfigError(f"{env} does not require approvals (environments.{env}.approvals is not set)")
    if role not in rules.roles:
        raise ConfigError(
            f"{env} does not ask for the role {role!r}{did_you_mean(role, rules.roles)} "
            f"(it asks for: {', '.join(rules.roles)})"
        )
    held = config.roles_of(user)
    if role not in held:
        has = f"{user}'s roles: {', '.join(sorted(held))}" if held else f"{user} has no roles"
        raise PolicyDenied(
            f"{user} does not hold the role {role!r} ({has}; roles come from 'users' in the config)"
        )
    mine = [a for a in existing if a.environment == env and a.version == version and a.user == user]
    for a in mine:
        if a.role == role:
            raise PolicyDenied(
                f"{user} already approved {version} for {env} as {role} at {utc_label(a.at)}"
            )
    if rules.distinct_people and mine:
        raise PolicyDenied(
            f"{user} already approved {version} for {env} as {mine[0].role}; each role needs a "
            "different person (approvals.distinct_people)"
        )
    if deployer is not None and deployer == user and not rules.self_approval:
        raise PolicyDenied(
            f"{user} is deploying {version} to {env} and may not approve it "
            "(approvals.self_approval is off)"
        )
