"""Who is acting: single-person, trust, os and ssh modes, and actors built by the web layer."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys

import pytest

from releasegate.errors import IdentityError
from releasegate.identity import actor_for, current_os_user, establish_actor

from .helpers import make_config


def test_without_users_whoever_runs_it_is_the_single_person() -> None:
    config = make_config(users=None)
    by_os = establish_actor(config, requested=None, env_user=None, os_user="dev")
    assert (by_os.name, by_os.via, by_os.single_person, by_os.verified) == (
        "dev",
        "single-person",
        True,
        True,
    )
    by_env = establish_actor(config, requested=None, env_user="ci-bot", os_user="dev")
    by_as = establish_actor(config, requested="ana", env_user="ci-bot", os_user="dev")
    assert (by_env.name, by_as.name) == ("ci-bot", "ana")
    # a typed name is what the records keep, marked unverified, beside the OS user
    assert by_as.to_json() == {
        "user": "ana",
        "roles": [],
        "via": "single-person",
        "verified": False,
        "os_user": "dev",
    }


def test_trust_takes_the_name_it_is_given_and_says_it_is_unverified() -> None:
    config = make_config()
    actor = establish_actor(config, requested="bob", env_user="alice", os_user="dev")
    assert (actor.name, actor.roles, actor.via, actor.verified, actor.os_user) == (
        "bob",
        frozenset({"tech-lead", "devops"}),
        "trust",
        False,
        "dev",
    )
    assert establish_actor(config, requested=None, env_user="alice", os_user="dev").name == "alice"
    assert establish_actor(config, requested=None, env_user="  ", os_user="dev").name == "dev"


@pytest.mark.parametrize("mode", ["os", "ssh"])
def test_os_and_ssh_modes_act_as_the_os_user(mode: str) -> None:
    config = make_config(identity={"mode": mode, "allowed_signers": "signers"})
    actor = establish_actor(config, requested=None, env_user=None, os_user="alice")
    assert (actor.name, actor.roles, actor.via, actor.verified) == (
        "alice",
        frozenset({"qa"}),
        mode,
        True,
    )
    # naming yourself is not naming someone else
    assert establish_actor(config, requested="alice", env_user="alice", os_user="alice") == actor


@pytest.mark.parametrize("mode", ["os", "ssh"])
def test_naming_someone_else_under_os_or_ssh_is_refused(mode: str) -> None:
    config = make_config(identity={"mode": mode, "allowed_signers": "signers"})
    with pytest.raises(IdentityError) as by_as:
        establish_actor(config, requested="bob", env_user=None, os_user="alice")
    assert str(by_as.value) == f"identity.mode is {mode}: you are alice; --as bob is refused"
    with pytest.raises(IdentityError) as by_env:
        establish_actor(config, requested=None, env_user="bob", os_user="alice")
    assert str(by_env.value) == (
        f"identity.mode is {mode}: you are alice; RELEASEGATE_USER=bob is refused"
    )


def test_os_users_maps_a_login_to_a_name_in_users() -> None:
    config = make_config(identity={"mode": "os", "os_users": {"a.kumar": "alice"}})
    actor = establish_actor(config, requested=None, env_user=None, os_user="a.kumar")
    assert (actor.name, actor.roles, actor.os_user) == ("alice", frozenset({"qa"}), "a.kumar")
    # the login and the name it maps to are the same person
    for same in ("alice", "a.kumar"):
        assert establish_actor(config, requested=same, env_user=None, os_user="a.kumar") == actor
    with pytest.raises(IdentityError, match="you are alice; --as bob is refused"):
        establish_actor(config, requested="bob", env_user=None, os_user="a.kumar")


def test_an_os_user_not_in_users_gets_no_role() -> None:
    config = make_config(identity={"mode": "os"})
    actor = establish_actor(config, requested=None, env_user=None, os_user="intruder")
    assert (actor.name, actor.roles, actor.via) == ("intruder", frozenset(), "os")


def test_an_empty_as_is_refused() -> None:
    with pytest.raises(IdentityError) as caught:
        establish_actor(make_config(), requested="", env_user=None, os_user="dev")
    assert str(caught.value) == "--as needs a user name"


def test_the_system_actor_and_web_actors() -> None:
    config = make_config()
    system = establish_actor(
        config, requested="bob", env_user=None, os_user="svc", via_hint="system"
    )
    assert (system.name, system.via, system.roles, system.os_user) == (
        "releasegate",
        "system",
        frozenset(),
        "svc",
    )
    token = actor_for(config, "erin", via="token", os_user="www", token_id=12)
    assert token.to_json() == {
        "user": "erin",
        "roles": ["admin"],
        "via": "token",
        "verified": True,
        "os_user": "www",
        "token_id": 12,
    }
    with pytest.raises(ValueError, match="use actor_for for token"):
        establish_actor(config, requested=None, env_user=None, os_user="x", via_hint="token")


def test_the_os_user_comes_from_the_password_database_not_from_USER() -> None:
    real = pwd.getpwuid(os.geteuid()).pw_name
    code = "from releasegate.identity import current_os_user; print(current_os_user())"
    env = {**os.environ, "USER": "bob", "LOGNAME": "bob", "USERNAME": "bob"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == real == current_os_user()
