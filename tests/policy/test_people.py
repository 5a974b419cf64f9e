"""Approvals by role, the emergency path, promotion and soak, the rollback matrix."""

from __future__ import annotations

from datetime import timedelta

import pytest

from releasegate.errors import ConfigError, PolicyDenied
from releasegate.policy.api import (
    check_deploy,
    emergency_obligations,
    incident_action,
    parse_impact,
    validate_approval,
)
from releasegate.policy.facts import DeploymentFact, FreezeFact, PolicyFacts

from .helpers import NO_FACTS, make_config, signed, soaked, utc

APPROVALS = {"roles": ["qa", "product-owner", "tech-lead"], "distinct_people": True, "self_approval": False}
TUESDAY = utc(2026, 4, 14, 11)
FRIDAY = utc(2026, 4, 17, 11)


def _gated(**extra):  # type: ignore[no-untyped-def]
    return make_config(promote_from="staging", approvals=APPROVALS, **extra)


def _denied(decision):  # type: ignore[no-untyped-def]
    return {r.rule: r.reason for r in decision.denied}


def _facts(*approvals, deployments=None):  # type: ignore[no-untyped-def]
    return PolicyFacts(approvals=tuple(approvals),
                       deployments=deployments or (soaked(at=TUESDAY - timedelta(hours=3)),))


def test_all_roles_signed_by_different_people_allow() -> None:
    facts = _facts(signed("qa", "alice"), signed("product-owner", "bob"), signed("tech-lead", "carol"))
    decision = check_deploy(_gated(), "production", "1.2.0", "normal", "dave", facts, TUESDAY)
    assert decision.allowed, decision.explain()


def test_one_person_cannot_cover_two_roles_but_the_matching_finds_a_way() -> None:
    # bob signed both product-owner and tech-lead; carol signed tech-lead too: bob → PO, carol → TL
    facts = _facts(signed("qa", "alice"), signed("tech-lead", "bob"), signed("product-owner", "bob"),
                   signed("tech-lead", "carol"))
    assert check_deploy(_gated(), "production", "1.2.0", "normal", "dave", facts, TUESDAY).allowed
    alone = _facts(signed("qa", "alice"), signed("tech-lead", "bob"), signed("product-owner", "bob"))
    decision = check_deploy(_gated(), "production", "1.2.0", "normal", "dave", alone, TUESDAY)
    assert _denied(decision) == {
        "approval:tech-lead": "no valid tech-lead sign-off for 1.2.0 (bob already signed another "
        "role (each role needs a different person))"
    }


def test_the_deployer_approval_does_not_count_and_other_versions_do_not_count() -> None:
    facts = _facts(signed("qa", "alice"), signed("product-owner", "bob"), signed("tech-lead", "carol"),
                   signed("qa", "alice", version="1.1.0"))
    decision = check_deploy(_gated(), "production", "1.2.0", "normal", "carol", facts, TUESDAY)
    assert _denied(decision) == {
        "approval:tech-lead": "no valid tech-lead sign-off for 1.2.0 (carol signed but is the deployer "
        "(self-approval is off))"
    }
    other = _facts(signed("qa", "alice", version="1.1.0"), signed("product-owner", "bob"),
                   signed("tech-lead", "carol"))
    assert "approval:qa" in _denied(check_deploy(_gated(), "production", "1.2.0", "normal", "dave", other, TUESDAY))


def test_a_signature_by_someone_without_the_role_does_not_count() -> None:
    facts = _facts(signed("qa", "mallory"), signed("product-owner", "bob"), signed("tech-lead", "carol"))
    decision = check_deploy(_gated(), "production", "1.2.0", "normal", "dave", facts, TUESDAY)
    assert _denied(decision) == {
        "approval:qa": "no valid qa sign-off for 1.2.0 (mallory signed but does not hold the role)"
    }


def test_approvals_are_not_time_based_but_the_calendar_still_answers() -> None:
    decision = check_deploy(_gated(), "production", "1.2.0", "normal", "dave", _facts(), TUESDAY)
    assert not decision.allowed
    assert decision.next_allowed_at == TUESDAY
    assert decision.explain().endswith(
        "Windows and freezes allow it now; still needed: approval:qa, approval:product-owner, "
        "approval:tech-lead."
    )


def test_hotfix_releases_skip_approvals() -> None:
    decision = check_deploy(_gated(), "production", "1.2.0", "hotfix", "dave", _facts(), TUESDAY)
    assert decision.allowed


def test_validate_approval_refuses_with_clear_messages() -> None:
    config = _gated()
    with pytest.raises(PolicyDenied) as held:
        validate_approval(config, "production", "1.2.0", "tech-lead", "alice", [])
    assert str(held.value) == (
        "alice does not hold the role 'tech-lead' (alice's roles: qa; roles come from 'users' in the config)"
    )
    with pytest.raises(PolicyDenied) as twice:
        validate_approval(config, "production", "1.2.0", "qa", "alice", [signed("qa", "alice")])
    assert str(twice.value) == "alice already approved 1.2.0 for production as qa at 2026-01-01 00:00 UTC (Thu)"
    with pytest.raises(PolicyDenied) as other_role:
        validate_approval(config, "production", "1.2.0", "tech-lead", "bob", [signed("product-owner", "bob")])
    assert str(other_role.value) == (
        "bob already approved 1.2.0 for production as product-owner; each role needs a different "
        "person (approvals.distinct_people)"
    )
    with pytest.raises(PolicyDenied) as own:
        validate_approval(config, "production", "1.2.0", "qa", "alice", [], deployer="alice")
    assert str(own.value) == (
        "alice is deploying 1.2.0 to production and may not approve it (approvals.self_approval is off)"
    )
    with pytest.raises(ConfigError) as role:
        validate_approval(config, "production", "1.2.0", "qa-lead", "alice", [])
    assert str(role.value) == (
        "production does not ask for the role 'qa-lead' (did you mean 'tech-lead'?) "
        "(it asks for: qa, product-owner, tech-lead)"
    )
    with pytest.raises(ConfigError) as env:
        validate_approval(config, "producton", "1.2.0", "qa", "alice", [])
    assert str(env.value) == (
        "unknown environment 'producton' (did you mean 'production'?) (known: staging, production)"
    )
    # a new version needs new approvals: alice's 1.1.0 signature does not stop her signing 1.2.0
    validate_approval(config, "production", "1.2.0", "qa", "alice", [signed("qa", "alice", version="1.1.0")])


def test_emergency_overrides_the_window_and_soft_freezes_and_lists_obligations() -> None:
    decision = check_deploy(make_config(), "production", None, "hotfix", "dave", NO_FACTS, FRIDAY,
                            emergency=True)
    assert decision.allowed
    assert [r.rule for r in decision.overrides] == ["window"]
    assert decision.obligations == (
        "monitor closely for 2h after the release (until 2026-04-17 13:00 UTC (Fri)): on-call "
        "engineer assigned, rollback plan ready",
        "post-mortem within 1d: root cause, prevention measures, process improvements",
    )
    monitor, postmortem = emergency_obligations(make_config(), FRIDAY)
    assert (monitor.kind, monitor.due_at) == ("monitor", FRIDAY + timedelta(hours=2))
    assert (postmortem.kind, postmortem.due_at) == ("postmortem", FRIDAY + timedelta(hours=24))


def test_emergency_needs_an_emergency_role() -> None:
    decision = check_deploy(make_config(), "production", None, "hotfix", "alice", NO_FACTS, FRIDAY,
                            emergency=True)
    assert _denied(decision) == {
        "emergency": "alice may not take the emergency path: it needs one of the roles on-call, "
        "devops-lead (alice holds qa)",
        "window": "Fri 2026-04-17 11:00 UTC is outside the window Tue-Thu 10:00-14:00 UTC",
    }


def test_a_hard_freeze_holds_against_emergency_unless_an_admin_overrides() -> None:
    hard = PolicyFacts(freezes=(FreezeFact(9, "production", utc(2026, 4, 1), utc(2026, 5, 1), "audit", hard=True),))
    plain = check_deploy(make_config(), "production", None, "hotfix", "dave", hard, TUESDAY, emergency=True)
    assert _denied(plain) == {
        "freeze:ad-hoc": "freeze #9 (hard) from 2026-04-01 00:00 UTC (Wed) to 2026-05-01 00:00 UTC (Fri): "
        "audit (a hard freeze: only --emergency --override-freeze by an admin passes it)"
    }
    not_admin = check_deploy(make_config(), "production", None, "hotfix", "dave", hard, TUESDAY,
                             emergency=True, override_freeze=True)
    assert "emergency" in _denied(not_admin)
    admin = check_deploy(make_config(), "production", None, "hotfix", "erin", hard, TUESDAY,
                         emergency=True, override_freeze=True)
    assert admin.allowed
    assert [r.rule for r in admin.overrides] == ["freeze:ad-hoc"]


def test_override_freeze_without_emergency_is_refused() -> None:
    decision = check_deploy(make_config(), "production", None, "normal", "erin", NO_FACTS, TUESDAY,
                            override_freeze=True)
    assert _denied(decision) == {
        "emergency": "--override-freeze applies only to an emergency deployment (--emergency)"
    }


def test_promotion_needs_success_on_staging() -> None:
    decision = check_deploy(make_config(promote_from="staging"), "production", "1.2.0", "normal", "dave",
                            NO_FACTS, TUESDAY)
    assert _denied(decision) == {"promotion": "1.2.0 has not succeeded on staging yet"}


def test_soak_blocks_until_two_hours_and_the_next_time_is_when_it_ends() -> None:
    facts = PolicyFacts(deployments=(soaked(at=TUESDAY - timedelta(hours=1, minutes=30)),))
    decision = check_deploy(make_config(promote_from="staging"), "production", "1.2.0", "normal", "dave",
                            facts, TUESDAY)
    assert _denied(decision) == {
        "soak": "soaked on staging for 1h30m of 2h (normal); done at 2026-04-14 11:30 UTC (Tue)"
    }
    assert decision.next_allowed_at == utc(2026, 4, 14, 11, 30)
    major = check_deploy(make_config(promote_from="staging", soak={"major": "24h"}), "production", "1.2.0",
                         "major", "dave", facts, TUESDAY)
    assert major.next_allowed_at == utc(2026, 4, 15, 10)  # soaked at 09:30 Wednesday, window at 10:00


def test_a_rollback_since_the_success_blocks_promotion() -> None:
    history = (
        soaked(at=utc(2026, 4, 13, 9)),
        DeploymentFact(2, "staging", "1.1.0", "rollback", "succeeded", utc(2026, 4, 13, 12)),
    )
    decision = check_deploy(make_config(promote_from="staging"), "production", "1.2.0", "normal", "dave",
                            PolicyFacts(deployments=history), TUESDAY)
    assert _denied(decision) == {
        "promotion": "1.2.0 succeeded on staging (deployment 1) but was rolled back since "
        "(deployment 2 at 2026-04-13 12:00 UTC (Mon))"
    }


def test_the_rollback_matrix_gives_action_and_deadline() -> None:
    opened = utc(2026, 4, 14, 11)
    action = incident_action(make_config(), "high", parse_impact("60%"), opened)
    assert (action.action, action.deadline) == ("quick rollback", opened + timedelta(minutes=15))
    assert incident_action(make_config(), "critical", 100, opened).action == "immediate rollback"
    assert incident_action(make_config(), "low", 5, opened).within == timedelta(hours=24)


def test_the_matrix_picks_the_most_specific_impact_row() -> None:
    config = make_config().model_copy(update={"incidents": make_config().incidents.model_validate({
        "matrix": [
            {"severity": "high", "min_impact": 50, "action": "quick rollback", "within": "15m"},
            {"severity": "high", "min_impact": 0, "action": "evaluate", "within": "30m"},
        ]})})
    assert incident_action(config, "high", 60, utc(2026, 1, 1)).action == "quick rollback"
    assert incident_action(config, "high", 20, utc(2026, 1, 1)).action == "evaluate"
    with pytest.raises(ConfigError) as missing:
        incident_action(config, "low", 20, utc(2026, 1, 1))
    assert str(missing.value) == "incidents.matrix has no row for severity 'low' at 20% of users"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lots", "--impact: 'lots' is not a share of users (write e.g. 60%)"),
        ("120%", "--impact: '120%' is not between 0% and 100%"),
    ],
)
def test_bad_impact(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_impact(text)
    assert str(err.value) == message
