"""Sign-offs under ``identity.mode: ssh``: the payload a person signs, the signature made
with their key, checked against ``identity.allowed_signers`` before anything is recorded,
and checked again by ``audit verify``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from releasegate.errors import IdentityError
from releasegate.identity import (
    Actor,
    allowed_signers_file,
    canonical_payload,
    default_signing_key,
    payload_fields,
    sign_payload,
    verify_signature,
)
from releasegate.service.workspace import Workspace

Signer = Callable[[bytes], str]
"""Signs a payload with the acting person's key; returns the armored signature."""


@dataclass(frozen=True)
class Signed:
    signature: str | None = None
    payload: str | None = None


def local_signer() -> Signer:
    """A signer using this machine's key (``RELEASEGATE_SIGNING_KEY`` or ``~/.ssh/id_*``),
    looked up only when something is signed."""

    def signer(payload: bytes) -> str:
        key = default_signing_key()
        if key is None:
            raise IdentityError(
                "identity.mode is ssh: no SSH key to sign with (set RELEASEGATE_SIGNING_KEY "
                "or create ~/.ssh/id_ed25519)"
            )
        return sign_payload(payload, key)

    return signer


def sign(
    ws: Workspace, actor: Actor, signer: Signer | None, *, environment: str, version: str,
    role: str | None = None, item: str | None = None, deployment_id: int | None = None,
) -> Signed:
    """The signature and payload to record with a sign-off (none unless ``mode: ssh``)."""
    config = ws.config
    if config.identity.mode != "ssh":
        return Signed()
    if signer is None:
        raise IdentityError(
            "identity.mode is ssh: sign-offs are signed with your SSH key; set "
            "RELEASEGATE_SIGNING_KEY or create ~/.ssh/id_ed25519 (and list its public key "
            "in identity.allowed_signers)"
        )
    payload = canonical_payload(
        project=config.project, environment=environment, version=version, user=actor.name,
        at=datetime.now(UTC), chain_head=ws.store.chain_head().hash, role=role, item=item,
        deployment_id=deployment_id,
    )
    signature = signer(payload)
    verify_signature(
        payload, signature, principal=actor.name,
        allowed_signers=allowed_signers_file(config, config_file=ws.config_path),
    )
    return Signed(signature, payload.decode("utf-8"))


def check_recorded(
    ws: Workspace, what: str, signature: str, payload: str, expected: dict[str, object]
) -> str | None:
    """Why a recorded signed sign-off does not hold (None if it does): the signature
    over its payload, and the payload naming what the row says."""
    try:
        verify_signature(
            payload.encode("utf-8"), signature, principal=str(expected["user"]),
            allowed_signers=allowed_signers_file(ws.config, config_file=ws.config_path),
        )
    except IdentityError as exc:
        return f"{what}: its signature does not verify: {exc}"
    fields = payload_fields(payload.encode("utf-8"))
    for key, value in expected.items():
        if value is not None and fields.get(key) != value:
            return f"{what} was edited: {key} is {value!r}, the signed payload says {fields.get(key)!r}"
    return None
