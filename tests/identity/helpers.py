"""Shared by the identity tests: configs from dicts, allowed_signers lines, fingerprints."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from releasegate.config.models import Config

USERS = {
    "alice": {"roles": ["qa"]},
    "bob": {"roles": ["tech-lead", "devops"]},
    "erin": {"roles": ["admin"]},
    "mallory": {"roles": []},
}


def make_config(**top: Any) -> Config:
    """A small valid config; keyword arguments replace top-level keys (``users=None``
    drops ``users:``)."""
    data: dict[str, Any] = {
        "project": "shop",
        "users": USERS,
        "environments": {"staging": {}, "production": {"promote_from": "staging"}},
    }
    data.update(top)
    return Config.model_validate({k: v for k, v in data.items() if v is not None})


def signer_line(principal: str, key: Path, *, options: str = "") -> str:
    """One allowed_signers line giving ``key``'s public half to ``principal``."""
    public = key.with_name(key.name + ".pub").read_text(encoding="ascii").split()
    return " ".join(p for p in (principal, options, public[0], public[1]) if p) + "\n"


def fingerprint(key: Path) -> str:
    """``SHA256:...`` of a key, as ssh-keygen prints it."""
    out = subprocess.run(
        ["ssh-keygen", "-l", "-f", str(key)], check=True, capture_output=True, text=True
    ).stdout
    return out.split()[1]
