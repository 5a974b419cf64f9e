"""Sign-offs under ``identity.mode: ssh``: signed with the person's key, verified against
``allowed_signers`` before anything is recorded, and again by ``audit verify``; ``--as``
another person is refused."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from releasegate.errors import IdentityError
from releasegate.identity import current_os_user
from releasegate.service import records, signoffs
from releasegate.service.signing import local_signer
from releasegate.service.workspace import Workspace


def _key(folder: Path, name: str) -> Path:
    key = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)],
                   check=True)
    return key


@pytest.fixture
def signed_ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    ana = _key(tmp_path, "ana")
    _key(tmp_path, "mallory")
    (tmp_path / "allowed_signers").write_text(
        f"ana {(tmp_path / 'ana.pub').read_text().split(' ', 2)[0]} "
        f"{(tmp_path / 'ana.pub').read_text().split(' ', 2)[1]}\n"
    )
    (tmp_path / "releasegate.yaml").write_text(
        "project: shop\n"
        f"identity: {{mode: ssh, allowed_signers: allowed_signers, os_users: {{{current_os_user()}: ana}}}}\n"
        "users: {ana: {roles: [qa]}, ben: {roles: [tech-lead]}}\n"
        "environments:\n  production:\n    approvals: {roles: [qa, tech-lead]}\n"
    )
    monkeypatch.setenv("RELEASEGATE_SIGNING_KEY", str(ana))
    return Workspace(tmp_path / "releasegate.yaml")


def test_an_approval_is_signed_recorded_and_verified_again(signed_ws: Workspace) -> None:
    ws = signed_ws
    actor = ws.actor()
    assert (actor.name, actor.via) == ("ana", "ssh")
    done = signoffs.approve(ws, actor, "production", "3.0", role="qa", signer=local_signer())
    assert done.data["signed"] is True
    [approval] = ws.store.list_approvals("production", "3.0")
    assert approval.signature is not None
    assert approval.signature.startswith("-----BEGIN SSH SIGNATURE-----")
    assert approval.via == "ssh"
    audit = records.audit_verify(ws, actor)
    assert (audit.ok, audit.signatures) == (True, 1)


def test_a_key_not_in_allowed_signers_records_nothing(
    signed_ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELEASEGATE_SIGNING_KEY", str(tmp_path / "mallory"))
    with pytest.raises(IdentityError):
        signoffs.approve(signed_ws, signed_ws.actor(), "production", "3.0", role="qa",
                         signer=local_signer())
    assert signed_ws.store.list_approvals("production", "3.0") == []


def test_audit_verify_names_a_signed_row_edited_by_hand(signed_ws: Workspace, tmp_path: Path) -> None:
    ws = signed_ws
    signoffs.approve(ws, ws.actor(), "production", "3.0", role="qa", signer=local_signer())
    db = sqlite3.connect(tmp_path / ".releasegate" / "state.db")
    db.execute("UPDATE approvals SET version = '6.6.6'")
    db.commit()
    db.close()
    audit = records.audit_verify(ws, ws.actor())
    assert not audit.ok
    assert "approval 1 was edited: version is '6.6.6', the signed payload says '3.0'" in audit.problems
    assert any(p.startswith("approvals row 1 was edited") for p in audit.problems)


def test_as_another_person_is_refused_under_ssh(signed_ws: Workspace, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "releasegate", "--as", "ben", "approve", "production", "3.0",
         "--role", "tech-lead"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 3
    assert "--as ben is refused" in done.stderr
