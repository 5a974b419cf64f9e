"""SSH signatures over sign-off payloads, made and checked by ``ssh-keygen -Y``.

Signing is ``ssh-keygen -Y sign -n releasegate -f KEY FILE`` and verifying is
``ssh-keygen -Y verify -f ALLOWED_SIGNERS -I PRINCIPAL -n releasegate -s SIG`` (OpenSSH
8.2 or later; git signs commits the same way since 2.34). ssh-keygen runs from an argv,
never a shell, in its own session with no terminal and ``SSH_ASKPASS_REQUIRE=never``: a
key protected by a passphrase signs only through ssh-agent, and nothing ever waits on a
prompt nobody sees.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from releasegate.config.identity_check import signers_path
from releasegate.config.models import Config
from releasegate.errors import IdentityError
from releasegate.identity.payload import NAMESPACE

SIGNING_KEY_ENV = "RELEASEGATE_SIGNING_KEY"
DEFAULT_KEYS = ("id_ed25519", "id_ecdsa", "id_rsa", "id_ed25519_sk", "id_ecdsa_sk")
"""Tried in ``~/.ssh`` in this order when ``RELEASEGATE_SIGNING_KEY`` is not set."""

SIGN_TIMEOUT = 120.0
"""Seconds: a hardware key (``*-sk``) waits for a touch."""
VERIFY_TIMEOUT = 30.0
_ARMOR = "-----BEGIN SSH SIGNATURE-----"
_NOISE = ("Signing data on standard input", "Could not verify signature.", "Enter passphrase")


def default_signing_key(
    *, environ: Mapping[str, str] | None = None, home: Path | None = None
) -> Path | None:
    """``$RELEASEGATE_SIGNING_KEY``, else the first of ``~/.ssh/id_ed25519``, ``id_ecdsa``,
    ``id_rsa`` (then the ``*_sk`` hardware keys) that exists, else None.

    Raises :class:`IdentityError` when ``RELEASEGATE_SIGNING_KEY`` names no file.
    """
    env = os.environ if environ is None else environ
    named = env.get(SIGNING_KEY_ENV)
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise IdentityError(f"{SIGNING_KEY_ENV}={named}: no such key file")
        return path
    folder = (Path.home() if home is None else home) / ".ssh"
    return next((folder / n for n in DEFAULT_KEYS if (folder / n).is_file()), None)


def allowed_signers_file(config: Config, *, config_file: Path) -> Path:
    """The config's ``identity.allowed_signers``, relative to the config file."""
    if not config.identity.allowed_signers:
        raise IdentityError(
            "identity.allowed_signers is not set: nobody's signature can be verified"
        )
    return signers_path(config.identity.allowed_signers, str(config_file))


def sign_payload(payload: bytes, key: Path) -> str:
    """The armored SSH signature (``-----BEGIN SSH SIGNATURE-----``) of ``payload`` by
    ``key`` (a private key file, or a public one whose private half ssh-agent holds).

    Raises :class:`IdentityError` for a missing key, a passphrase-protected key that no
    agent offers, or any other refusal of ssh-keygen, naming the key.
    """
    if not key.exists():
        raise IdentityError(f"cannot sign: the key {key} does not exist")
    with tempfile.TemporaryDirectory(prefix="releasegate-sign-") as tmp:
        # A file, not stdin: with no terminal ssh-keygen reads a passphrase from stdin,
        # and would take the payload's first line for one.
        message = Path(tmp) / "payload"
        message.write_bytes(payload)
        done = _ssh_keygen(
            ["-Y", "sign", "-n", NAMESPACE, "-f", str(key), str(message)], timeout=SIGN_TIMEOUT
        )
        signature = Path(tmp) / "payload.sig"
        if done.returncode == 0 and signature.is_file():
            return signature.read_text(encoding="ascii")
    reason = _reason(done.stderr)
    if "passphrase" in done.stderr:
        raise IdentityError(
            f"cannot sign with {key}: it is protected by a passphrase and no ssh-agent "
            f"offers it (run: ssh-add {key})"
        )
    raise IdentityError(f"cannot sign with {key}: {reason or 'ssh-keygen refused'}")


def verify_signature(
    payload: bytes,
    signature: str,
    *,
    principal: str,
    allowed_signers: Path,
    at: datetime | None = None,
) -> None:
    """Return if ``signature`` is ``principal``'s, by a key ``allowed_signers`` lists for
    them, over exactly ``payload``; else raise :class:`IdentityError` saying why: the
    allowed_signers file is missing, the signature is malformed, it is over other bytes
    (another version, an edited record), made for another namespace, or by a key the
    file does not give to ``principal`` (it names whose key it is, when it knows).

    ``at`` checks the key's ``valid-after``/``valid-before`` at that time (when the
    sign-off was recorded) rather than now.
    """
    if not allowed_signers.is_file():
        raise IdentityError(
            f"cannot verify {principal}'s signature: {allowed_signers} does not exist"
        )
    if not signature.lstrip().startswith(_ARMOR):
        raise IdentityError(f"{principal}'s signature is malformed: it is not an SSH signature")
    with tempfile.TemporaryDirectory(prefix="releasegate-verify-") as tmp:
        sig = Path(tmp) / "payload.sig"
        sig.write_text(signature, encoding="ascii", errors="replace")
        argv = ["-Y", "verify", "-f", str(allowed_signers), "-I", principal, "-n", NAMESPACE]
        if at is not None:
            argv += ["-O", f"verify-time={at.astimezone(UTC):%Y%m%d%H%M%SZ}"]
        done = _ssh_keygen([*argv, "-s", str(sig)], stdin=payload)
        if done.returncode == 0:
            return
        raise IdentityError(_why_not(payload, sig, principal, allowed_signers, done.stderr))


def _why_not(payload: bytes, sig: Path, principal: str, allowed: Path, stderr: str) -> str:
    """Why verification failed: is the signature good at all, and whose key made it?"""
    check = _ssh_keygen(["-Y", "check-novalidate", "-n", NAMESPACE, "-s", str(sig)], stdin=payload)
    if check.returncode != 0:
        if "parse" in check.stderr or "armor" in check.stderr:
            return f"{principal}'s signature is malformed: {_reason(check.stderr)}"
        if "namespace" in check.stderr:
            return f"{principal}'s signature was made for another purpose than releasegate (ssh-keygen -n)"
        return (
            f"{principal}'s signature is not over this sign-off: it was made for other "
            "details (another version, item or time) or the record was edited"
        )
    key = check.stdout.rsplit(" key ", 1)[-1].strip() or "the signing key"
    if f"{allowed}:" in stderr:  # ssh-keygen named the line: expired, wrong namespace
        return f"{principal}'s signature by {key} is refused: {_reason(stderr)}"
    found = _ssh_keygen(["-Y", "find-principals", "-f", str(allowed), "-s", str(sig)])
    owners = [p for p in found.stdout.split() if p] if found.returncode == 0 else []
    if principal in owners:  # listed, but an option of its line refuses this use
        why = _reason(stderr) or "restricted by an option of its line"
        return f"{principal}'s signature by {key} is refused by {allowed}: {why}"
    if owners:
        return f"signed with {key}, which {allowed} gives to {', '.join(owners)}, not {principal}"
    return f"signed with {key}, which {allowed} does not list for {principal}"


def _reason(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines()]
    return "; ".join(dict.fromkeys(line for line in lines if line and not line.startswith(_NOISE)))


def _ssh_keygen(
    args: Sequence[str], *, stdin: bytes | None = None, timeout: float = VERIFY_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SSH_ASKPASS_REQUIRE": "never"}
    try:
        done = subprocess.run(
            ["ssh-keygen", *args],
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            env=env,
            timeout=timeout,
            start_new_session=True,  # no controlling terminal: never a passphrase prompt
            check=False,
        )
    except FileNotFoundError:
        raise IdentityError(
            "ssh-keygen is not installed (identity.mode ssh needs OpenSSH 8.2+: "
            "apt-get install openssh-client)"
        ) from None
    except subprocess.TimeoutExpired:
        raise IdentityError(f"ssh-keygen {args[1]} did not answer within {timeout:g}s") from None
    return subprocess.CompletedProcess(
        done.args,
        done.returncode,
        done.stdout.decode(errors="replace"),
        done.stderr.decode(errors="replace"),
    )
