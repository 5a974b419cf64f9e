"""`validate`'s identity checks: errors located in the file, and warnings that do not stop it."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.config.document import read_document
from releasegate.config.identity_check import identity_warnings
from releasegate.config.loader import load_config
from releasegate.drivers.api import Registry
from releasegate.errors import ConfigError

from .conftest import MakeKey
from .helpers import make_config, signer_line

USERS = """\
users:
  alice: {roles: [qa]}
  bob: {roles: [devops]}
"""
ENVIRONMENTS = """\
environments:
  staging: {}
  production: {promote_from: staging}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "releasegate.yaml"
    path.write_text("project: shop\n" + text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, catalog=Registry())
    return [str(p) for p in caught.value.problems]


def warnings(path: Path) -> list[str]:
    config = load_config(path, catalog=Registry())
    doc = read_document(path.read_text(encoding="utf-8"), str(path))
    return [str(w) for w in identity_warnings(config, doc)]


def test_mode_ssh_needs_an_allowed_signers_file(tmp_path: Path) -> None:
    path = write(tmp_path, "identity: {mode: ssh}\n" + ENVIRONMENTS)
    assert problems(path) == [
        f"{path}:2:18: identity.mode: mode ssh needs identity.allowed_signers: the file "
        "(ssh-keygen format) of the keys that may sign"
    ]


def test_the_allowed_signers_file_must_exist_beside_the_config(tmp_path: Path) -> None:
    path = write(
        tmp_path, "identity:\n  mode: ssh\n  allowed_signers: keys/allowed\n" + ENVIRONMENTS
    )
    assert problems(path) == [
        f"{path}:4:20: identity.allowed_signers: 'keys/allowed' does not exist "
        f"(looked at {tmp_path / 'keys' / 'allowed'})"
    ]
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "allowed").write_text("", encoding="ascii")
    load_config(path, catalog=Registry())  # an empty file is valid: nobody may sign yet


def test_a_line_of_allowed_signers_without_a_key_is_located(
    tmp_path: Path, make_key: MakeKey
) -> None:
    signers = tmp_path / "allowed_signers"
    signers.write_text(
        "# who may sign\n"
        + signer_line("alice", make_key("alice"), options='namespaces="releasegate"')
        + "bob AAAAC3NzaC1lZDI1NTE5AAAAI\n",
        encoding="ascii",
    )
    path = write(
        tmp_path, "identity: {mode: ssh, allowed_signers: allowed_signers}\n" + ENVIRONMENTS
    )
    assert problems(path) == [
        f"{signers}:3:1: not an allowed_signers line (PRINCIPALS [OPTIONS] KEYTYPE BASE64-KEY)"
    ]


def test_unknown_actions_in_permissions_suggest_the_closest(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        USERS
        + "permissions:\n  deplyo: [qa]\n  freeze.remove: [admin]\n  launch: [qa]\n"
        + ENVIRONMENTS,
    )
    found = problems(path)
    assert found[0] == (
        f"{path}:6:3: permissions: unknown action 'deplyo' (did you mean 'deploy'?)"
    )
    assert found[1].startswith(
        f"{path}:8:3: permissions: unknown action 'launch' (actions: deploy, rollback, resume, "
    )
    assert len(found) == 2


def test_the_checks_run_when_another_part_of_the_file_is_broken(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "identity: {mode: ssh}\npermissions: {freez.add: [devops]}\nenvironments: {staging: 3}\n",
    )
    found = problems(path)
    assert (
        f"{path}:2:18: identity.mode: mode ssh needs identity.allowed_signers: the file "
        in (found[0])
    )
    assert found[1] == (
        f"{path}:3:15: permissions: unknown action 'freez.add' (did you mean 'freeze.add'?)"
    )


def test_os_users_must_name_listed_users(tmp_path: Path) -> None:
    path = write(
        tmp_path, USERS + "identity:\n  mode: os\n  os_users: {akumar: alcie}\n" + ENVIRONMENTS
    )
    assert problems(path) == [
        f"{path}:7:22: identity.os_users.akumar: 'alcie' is not listed in users "
        "(did you mean 'alice'?)"
    ]


def test_a_role_nobody_holds_is_a_warning(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        USERS
        + "identity: {mode: os}\n"
        + "permissions: {freeze.add: [qa, devosp], deploy: ['*']}\n"
        + "overrides: {roles: [sre]}\n"
        + ENVIRONMENTS,
    )
    assert warnings(path) == [
        f"{path}:6:32: permissions.freeze.add[1]: no user holds the role 'devosp' "
        "(did you mean 'devops'?)",
        f"{path}:7:21: overrides.roles[0]: no user holds the role 'sre'",
    ]


def test_trust_on_a_production_like_environment_is_a_warning(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        USERS
        + "environments:\n"
        + "  dev: {}\n"
        + "  staging: {promote_from: dev}\n"
        + "  live: {promote_from: staging}\n"
        + "  prod: {}\n"
        + "  payments: {approvals: {roles: [qa]}}\n",
    )
    tail = "anyone can act as any user with --as; use mode os or ssh"
    assert warnings(path) == [
        f"{path}:8:3: environments.live: identity.mode is trust on a production-like "
        f"environment (the end of a promotion chain): {tail}",
        f"{path}:9:3: environments.prod: identity.mode is trust on a production-like "
        f"environment (named prod): {tail}",
        f"{path}:10:3: environments.payments: identity.mode is trust on a production-like "
        f"environment (it needs approvals): {tail}",
    ]


def test_no_trust_warning_without_users_or_with_os(tmp_path: Path) -> None:
    assert warnings(write(tmp_path, ENVIRONMENTS)) == []
    assert warnings(write(tmp_path, USERS + "identity: {mode: os}\n" + ENVIRONMENTS)) == []


def test_allowed_signers_is_ignored_outside_ssh_mode(tmp_path: Path) -> None:
    path = write(tmp_path, "identity: {mode: os, allowed_signers: signers}\n" + ENVIRONMENTS)
    assert warnings(path) == [
        f"{path}:2:39: identity.allowed_signers: is read only when identity.mode is ssh (it is os)"
    ]


def test_a_signer_not_in_users_is_a_warning(tmp_path: Path, make_key: MakeKey) -> None:
    signers = tmp_path / "allowed_signers"
    signers.write_text(
        signer_line("alice", make_key("alice"))
        + signer_line("bobby,*@ops.example", make_key("bob")),
        encoding="ascii",
    )
    path = write(
        tmp_path, USERS + "identity: {mode: ssh, allowed_signers: allowed_signers}\n" + ENVIRONMENTS
    )
    assert warnings(path) == [
        f"{signers}:2:1: signer 'bobby' is not listed in users (did you mean 'bob'?)"
    ]


def test_warnings_without_the_file_name_their_key_path() -> None:
    config = make_config(permissions={"adopt": ["sre"]})
    assert [str(w) for w in identity_warnings(config)] == [
        "permissions.adopt[0]: no user holds the role 'sre'",
        "environments.production: identity.mode is trust on a production-like environment "
        "(named production): anyone can act as any user with --as; use mode os or ssh",
    ]
