"""SSH-signed sign-offs with real keys: each way a signature can fail names why."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from releasegate.errors import IdentityError
from releasegate.identity import (
    canonical_payload,
    default_signing_key,
    payload_fields,
    sign_payload,
    verify_signature,
)

from .conftest import MakeKey
from .helpers import fingerprint, signer_line

AT = datetime(2026, 11, 30, 10, 0, 5, 123456, tzinfo=UTC)


def approval(version: str = "1.2.0", **changes: object) -> bytes:
    fields: dict[str, object] = {
        "project": "shop",
        "environment": "production",
        "version": version,
        "user": "alice",
        "at": AT,
        "chain_head": "9f2c" * 16,
        "role": "qa",
        "deployment_id": 7,
    }
    fields.update(changes)
    return canonical_payload(**fields)  # type: ignore[arg-type]


@pytest.fixture
def alice_key(make_key: MakeKey) -> Path:
    return make_key("alice")


@pytest.fixture
def signers(tmp_path: Path, alice_key: Path, make_key: MakeKey) -> Path:
    """allowed_signers: alice's key for alice (releasegate only), bob's for bob."""
    path = tmp_path / "allowed_signers"
    path.write_text(
        signer_line("alice", alice_key, options='namespaces="releasegate"')
        + signer_line("bob", make_key("bob")),
        encoding="ascii",
    )
    return path


def refusal(payload: bytes, signature: str, signers: Path, principal: str = "alice") -> str:
    with pytest.raises(IdentityError) as caught:
        verify_signature(payload, signature, principal=principal, allowed_signers=signers)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_the_payload_is_sorted_compact_json_in_the_releasegate_namespace() -> None:
    assert approval() == (
        b'{"at":"2026-11-30T10:00:05Z","chain_head":"' + b"9f2c" * 16 + b'",'
        b'"deployment_id":7,"environment":"production","namespace":"releasegate",'
        b'"project":"shop","role":"qa","user":"alice","v":1,"version":"1.2.0"}'
    )
    # the same instant read back with another precision or offset gives the same bytes
    ist = timezone(timedelta(hours=5, minutes=30))
    assert approval(at=AT.replace(microsecond=0).astimezone(ist)) == approval()
    confirmation = canonical_payload(
        project="shop",
        environment="production",
        version="1.2.0",
        user="dave",
        at=AT,
        chain_head="",
        item="prod.team-assembled",
    )
    assert payload_fields(confirmation)["item"] == "prod.team-assembled"
    assert "role" not in payload_fields(confirmation)


def test_a_payload_needs_an_absolute_time_and_one_subject() -> None:
    with pytest.raises(ValueError, match="has no time zone"):
        approval(at=datetime(2026, 11, 30, 10, 0))
    with pytest.raises(ValueError, match="exactly one of role"):
        approval(item="prod.team-assembled")
    with pytest.raises(ValueError, match="its namespace is not 'releasegate'"):
        payload_fields(b'{"namespace":"git","v":1}')


def test_a_signature_by_the_principals_key_verifies(alice_key: Path, signers: Path) -> None:
    signature = sign_payload(approval(), alice_key)
    assert signature.startswith("-----BEGIN SSH SIGNATURE-----")
    verify_signature(approval(), signature, principal="alice", allowed_signers=signers)


def test_a_key_not_in_allowed_signers_is_refused(make_key: MakeKey, signers: Path) -> None:
    stranger = make_key("stranger")
    signature = sign_payload(approval(), stranger)
    assert refusal(approval(), signature, signers) == (
        f"signed with {fingerprint(stranger)}, which {signers} does not list for alice"
    )


def test_another_persons_key_is_refused_and_named(tmp_path: Path, signers: Path) -> None:
    bob_key = tmp_path / "keys" / "bob"
    signature = sign_payload(approval(), bob_key)
    assert refusal(approval(), signature, signers) == (
        f"signed with {fingerprint(bob_key)}, which {signers} gives to bob, not alice"
    )


def test_a_signature_for_another_version_or_an_edited_payload_is_refused(
    alice_key: Path, signers: Path
) -> None:
    signature = sign_payload(approval("1.2.0"), alice_key)
    expected = (
        "alice's signature is not over this sign-off: it was made for other details "
        "(another version, item or time) or the record was edited"
    )
    assert refusal(approval("6.6.6-evil"), signature, signers) == expected
    edited = approval().replace(b'"role":"qa"', b'"role":"admin"')
    assert refusal(edited, signature, signers) == expected


def test_a_malformed_signature_is_refused(alice_key: Path, signers: Path) -> None:
    assert refusal(approval(), "looks-signed-to-me", signers) == (
        "alice's signature is malformed: it is not an SSH signature"
    )
    lines = sign_payload(approval(), alice_key).splitlines()
    truncated = "\n".join([*lines[:2], lines[-1]]) + "\n"
    assert refusal(approval(), truncated, signers).startswith("alice's signature is malformed: ")


def test_a_missing_allowed_signers_file_is_refused(alice_key: Path, tmp_path: Path) -> None:
    signature = sign_payload(approval(), alice_key)
    missing = tmp_path / "nowhere" / "allowed_signers"
    assert refusal(approval(), signature, missing) == (
        f"cannot verify alice's signature: {missing} does not exist"
    )


def test_a_signature_made_for_git_is_not_a_sign_off(
    alice_key: Path, signers: Path, tmp_path: Path
) -> None:
    message = tmp_path / "payload"
    message.write_bytes(approval())
    subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-n", "git", "-f", str(alice_key), str(message)],
        check=True,
        capture_output=True,
    )
    signature = message.with_name("payload.sig").read_text(encoding="ascii")
    assert refusal(approval(), signature, signers) == (
        "alice's signature was made for another purpose than releasegate (ssh-keygen -n)"
    )


def test_a_key_is_judged_at_the_time_of_the_sign_off(alice_key: Path, tmp_path: Path) -> None:
    signers = tmp_path / "allowed_signers"
    signers.write_text(
        signer_line("alice", alice_key, options='valid-before="20200101"'), encoding="ascii"
    )
    signature = sign_payload(approval(), alice_key)
    assert refusal(approval(), signature, signers).startswith(
        f"alice's signature by {fingerprint(alice_key)} is refused: {signers}:1: key has expired"
    )
    verify_signature(
        approval(),
        signature,
        principal="alice",
        allowed_signers=signers,
        at=datetime(2019, 6, 1, tzinfo=UTC),
    )


def test_an_encrypted_key_without_an_agent_is_a_clear_error(
    make_key: MakeKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    key = make_key("locked", passphrase="correct horse")
    with pytest.raises(IdentityError) as caught:
        sign_payload(approval(), key)
    assert str(caught.value) == (
        f"cannot sign with {key}: it is protected by a passphrase and no ssh-agent "
        f"offers it (run: ssh-add {key})"
    )


@pytest.fixture
def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A real ssh-agent on a socket in tmp_path, as SSH_AUTH_SOCK; stopped afterwards."""
    sock = tmp_path / "agent.sock"
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        probe = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        deadline = time.monotonic() + 60
        # until it answers: `ssh-add -l` exits 1 (no keys) once the agent is up
        while not (sock.exists() and _answers(probe)):
            assert proc.poll() is None, "ssh-agent exited"
            assert time.monotonic() < deadline, "ssh-agent did not come up"
            time.sleep(0.01)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        yield sock
    finally:
        proc.terminate()
        proc.wait()


def _answers(env: dict[str, str]) -> bool:
    return subprocess.run(["ssh-add", "-l"], env=env, capture_output=True).returncode == 1


def test_an_encrypted_key_signs_through_ssh_agent(
    agent: Path, make_key: MakeKey, tmp_path: Path
) -> None:
    key = make_key("locked", passphrase="correct horse")
    askpass = tmp_path / "askpass"
    askpass.write_text("#!/bin/sh\necho 'correct horse'\n", encoding="ascii")
    askpass.chmod(0o700)
    env = {**os.environ, "SSH_ASKPASS": str(askpass), "SSH_ASKPASS_REQUIRE": "force"}
    subprocess.run(
        ["ssh-add", str(key)], env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL
    )
    signers = tmp_path / "allowed_signers"
    signers.write_text(signer_line("alice", key), encoding="ascii")
    signature = sign_payload(approval(), key)
    verify_signature(approval(), signature, principal="alice", allowed_signers=signers)


def test_a_missing_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(IdentityError) as caught:
        sign_payload(approval(), tmp_path / "no-such-key")
    assert str(caught.value) == f"cannot sign: the key {tmp_path / 'no-such-key'} does not exist"


def test_the_default_signing_key(tmp_path: Path, make_key: MakeKey) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    assert default_signing_key(environ={}, home=home) is None
    (home / ".ssh" / "id_rsa").write_text("x", encoding="ascii")
    assert default_signing_key(environ={}, home=home) == home / ".ssh" / "id_rsa"
    (home / ".ssh" / "id_ed25519").write_text("x", encoding="ascii")
    assert default_signing_key(environ={}, home=home) == home / ".ssh" / "id_ed25519"
    chosen = make_key("chosen")
    env = {"RELEASEGATE_SIGNING_KEY": str(chosen)}
    assert default_signing_key(environ=env, home=home) == chosen
    with pytest.raises(IdentityError) as caught:
        default_signing_key(environ={"RELEASEGATE_SIGNING_KEY": "/nope/key"}, home=home)
    assert str(caught.value) == "RELEASEGATE_SIGNING_KEY=/nope/key: no such key file"
