"""Who may do what: the defaults, `permissions:`, `overrides.roles`, single-person mode."""

from __future__ import annotations

import pytest

from releasegate.config.models import Config
from releasegate.errors import PermissionDenied
from releasegate.identity import (
    ACTIONS,
    Action,
    Actor,
    actor_for,
    authorize,
    describe_permissions,
    establish_actor,
    may,
)

from .helpers import make_config


def as_(config: Config, name: str) -> Actor:
    return establish_actor(config, requested=name, env_user=None, os_user="dev")


def denial(config: Config, name: str, action: Action) -> str:
    with pytest.raises(PermissionDenied) as caught:
        authorize(config, as_(config, name), action)
    return str(caught.value)


@pytest.mark.parametrize("action", ACTIONS)
def test_single_person_mode_may_do_everything(action: Action) -> None:
    config = make_config(users=None)
    authorize(config, as_(config, "anyone"), action)


LISTED = (
    "deploy",
    "rollback",
    "resume",
    "cancel",
    "approve",
    "confirm",
    "obligation.close",
    "defect.add",
    "audit.anchor",
)
OPS = ("freeze.add", "freeze.remove", "incident.open", "incident.close", "campaign.add", "adopt",
       "backups.prune")
ADMIN = ("freeze.remove-hard", "override", "token.create", "token.revoke")


def test_the_defaults_cover_every_action_once() -> None:
    assert sorted((*LISTED, *OPS, *ADMIN)) == sorted(ACTIONS)


@pytest.mark.parametrize("action", LISTED)
def test_anyone_listed_may_deploy_roll_back_and_sign(action: Action) -> None:
    config = make_config()
    assert may(config, as_(config, "mallory"), action)  # listed, with no role at all
    assert denial(config, "stranger", action) == (
        f"stranger may not {action}: stranger is not listed in users, "
        "and with users set only they may act"
    )


@pytest.mark.parametrize("action", OPS)
def test_freezes_incidents_campaigns_and_adopt_need_devops_or_admin(action: Action) -> None:
    config = make_config()
    assert may(config, as_(config, "bob"), action)  # devops
    assert may(config, as_(config, "erin"), action)  # admin
    assert denial(config, "alice", action) == (
        f"alice may not {action}: it needs one of the roles devops, admin (the default); "
        "alice holds qa"
    )


@pytest.mark.parametrize("action", ADMIN)
def test_hard_freezes_overrides_and_tokens_need_admin(action: Action) -> None:
    config = make_config()
    assert may(config, as_(config, "erin"), action)
    source = "overrides.roles" if action == "override" else "the default"
    assert denial(config, "bob", action) == (
        f"bob may not {action}: it needs the role admin ({source}); bob holds devops, tech-lead"
    )
    assert denial(config, "mallory", action).endswith("; mallory holds no role")


def test_permissions_replace_the_default_of_the_actions_they_name() -> None:
    config = make_config(permissions={"freeze.add": ["qa"], "deploy": ["tech-lead"], "adopt": []})
    assert may(config, as_(config, "alice"), "freeze.add")
    assert denial(config, "bob", "freeze.add") == (
        "bob may not freeze.add: it needs the role qa (permissions.freeze.add); "
        "bob holds devops, tech-lead"
    )
    assert not may(config, as_(config, "alice"), "deploy")
    assert may(config, as_(config, "bob"), "deploy")
    assert denial(config, "erin", "adopt") == (
        "erin may not adopt: permissions.adopt lists no role, so nobody may"
    )
    # actions it does not name keep their defaults
    assert may(config, as_(config, "bob"), "incident.open")


def test_star_means_anyone_listed() -> None:
    config = make_config(permissions={"freeze.remove-hard": ["*"]})
    assert may(config, as_(config, "mallory"), "freeze.remove-hard")
    assert not may(config, as_(config, "stranger"), "freeze.remove-hard")


def test_override_follows_overrides_roles_unless_permissions_names_it() -> None:
    by_overrides = make_config(overrides={"roles": ["tech-lead"]})
    assert may(by_overrides, as_(by_overrides, "bob"), "override")
    assert not may(by_overrides, as_(by_overrides, "erin"), "override")
    by_permissions = make_config(
        overrides={"roles": ["tech-lead"]}, permissions={"override": ["qa"]}
    )
    assert may(by_permissions, as_(by_permissions, "alice"), "override")
    assert not may(by_permissions, as_(by_permissions, "bob"), "override")


def test_an_os_identity_outside_users_may_do_nothing() -> None:
    config = make_config(identity={"mode": "os"})
    intruder = establish_actor(config, requested=None, env_user=None, os_user="intruder")
    assert [a for a in ACTIONS if may(config, intruder, a)] == []


def test_releasegate_itself_may_only_carry_on_what_was_started() -> None:
    config = make_config()
    system = actor_for(config, "releasegate", via="system", os_user="svc")
    assert sorted(a for a in ACTIONS if may(config, system, a)) == [
        "audit.anchor",
        "cancel",
        "resume",
        "rollback",
    ]
    with pytest.raises(PermissionDenied) as caught:
        authorize(config, system, "approve")
    assert str(caught.value) == "releasegate itself may not approve: only a person may"


def test_describe_permissions_lists_every_action_with_its_roles() -> None:
    config = make_config(permissions={"freeze.add": ["qa"]}, overrides={"roles": ["sre"]})
    described = dict(describe_permissions(config))
    assert list(described) == list(ACTIONS)
    assert described["deploy"] == ["*"]
    assert described["freeze.add"] == ["qa"]
    assert described["freeze.remove"] == ["devops", "admin"]
    assert described["freeze.remove-hard"] == ["admin"]
    assert described["override"] == ["sre"]


def test_an_unknown_action_is_a_programming_error() -> None:
    config = make_config()
    with pytest.raises(ValueError, match="unknown action 'deplyo'"):
        authorize(config, as_(config, "alice"), "deplyo")  # type: ignore[arg-type]
