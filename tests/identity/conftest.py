"""Fixtures for the identity tests: real SSH keys made by ssh-keygen in tmp_path."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

MakeKey = Callable[..., Path]


@pytest.fixture(scope="session")
def ssh_keygen() -> str:
    """The real ssh-keygen; the identity tests need it (scripts/services.sh installs it)."""
    found = shutil.which("ssh-keygen")
    assert found, "ssh-keygen is not installed: apt-get install -y openssh-client"
    return found


@pytest.fixture
def make_key(tmp_path: Path, ssh_keygen: str) -> MakeKey:
    """``make_key("alice", passphrase="")`` → the private key file (its ``.pub`` beside it)."""

    def _make(name: str, *, passphrase: str = "", kind: str = "ed25519") -> Path:
        key = tmp_path / "keys" / name
        key.parent.mkdir(exist_ok=True)
        subprocess.run(
            [ssh_keygen, "-q", "-t", kind, "-N", passphrase, "-C", name, "-f", str(key)],
            check=True,
            stdin=subprocess.DEVNULL,
        )
        return key

    return _make
