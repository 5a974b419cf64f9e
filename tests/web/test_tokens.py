"""API tokens: shown once, stored hashed, expiring, revocable; the command line; the
migration that gave tokens a user (and its downgrade), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from releasegate.errors import ConflictError, IdentityError, PermissionDenied, UsageError
from releasegate.service import tokens
from releasegate.store.api import downgrade, open_store, upgrade
from releasegate.store.connection import parse_url

from .conftest import CONFIG

RG = [sys.executable, "-m", "releasegate"]


def rg(cwd: Path, *args: str, user: str = "root") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RELEASEGATE_USER": user}
    return subprocess.run([*RG, *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


def test_a_token_is_shown_once_stored_hashed_and_acts_as_its_user(workspace_factory) -> None:  # type: ignore[no-untyped-def]
    ws = workspace_factory()
    root = ws.actor(requested="root", env_user=None)
    made = tokens.create_token(ws, root, "ci", user="dev", expires="30d")
    assert made.secret.startswith("rg_")
    assert len(made.secret) == 46
    actor = tokens.authenticate(ws, made.secret, os_user="www")
    assert (actor.name, actor.roles, actor.via, actor.token_id) == ("dev", frozenset({"devops"}), "token", 1)
    assert actor.to_json()["token_id"] == 1
    listed = tokens.list_tokens(ws, root)
    assert [(t.name, t.user, t.state) for t in listed] == [("ci", "dev", "active")]
    assert listed[0].last_used_at is not None
    ws.close()
    assert made.secret.encode() not in (ws.state_dir / "state.db").read_bytes()
    with pytest.raises(ConflictError, match="a token named 'ci' exists already"):
        tokens.create_token(ws, root, "ci", user="ana")
    with pytest.raises(UsageError, match="--user 'zed' is not listed in users"):
        tokens.create_token(ws, root, "z", user="zed")
    with pytest.raises(PermissionDenied, match=r"dev may not token\.create"):
        tokens.create_token(ws, ws.actor(requested="dev", env_user=None), "mine", user="dev")
    tokens.revoke_token(ws, root, "ci")
    with pytest.raises(IdentityError, match=tokens.INVALID):
        tokens.authenticate(ws, made.secret, os_user="www")
    events = [e.type for e in ws.store.list_events() if e.type.startswith("token.")]
    assert events == ["token.created", "token.revoked"]
    assert ws.store.verify_chain().ok


def test_the_token_commands(tmp_path: Path) -> None:
    (tmp_path / "releasegate.yaml").write_text(CONFIG)
    made = rg(tmp_path, "token", "create", "deploy-bot", "--user", "dev", "--expires", "30d")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert secret.startswith("rg_")
    assert "token deploy-bot for dev, expires " in made.stderr
    assert "it is shown only now" in made.stderr
    listed = rg(tmp_path, "--json", "token", "list")
    assert listed.returncode == 0, listed.stderr
    assert [(t["name"], t["user"], t["state"]) for t in json.loads(listed.stdout)] == [
        ("deploy-bot", "dev", "active")
    ]
    assert secret not in listed.stdout
    refused = rg(tmp_path, "token", "create", "mine", "--user", "dev", user="dev")
    assert refused.returncode == 3
    assert "dev may not token.create" in refused.stderr
    revoked = rg(tmp_path, "token", "revoke", "deploy-bot")
    assert (revoked.returncode, revoked.stdout.strip()) == (0, "token deploy-bot revoked")
    again = rg(tmp_path, "token", "revoke", "deploy-bot")
    assert again.returncode == 2
    assert "the token 'deploy-bot' was revoked already" in again.stderr
    assert "revoked" in rg(tmp_path, "token", "list").stdout


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


def _columns(url: str) -> set[str]:
    engine = create_engine(parse_url(url))
    try:
        return {c["name"] for c in inspect(engine).get_columns("api_tokens")}
    finally:
        engine.dispose()


def test_migration_0004_adds_the_user_and_expiry_and_goes_back(store_url: str) -> None:
    with open_store(store_url) as store:
        store.add_token(name="ci", user="dev", token_hash="h" * 64, expires_at=None, by="root")
    assert {"user", "expires_at"} <= _columns(store_url)
    downgrade(store_url, "0003")
    assert {"user", "expires_at"}.isdisjoint(_columns(store_url))
    engine = create_engine(parse_url(store_url))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM api_tokens")).all() == [("ci",)]
    finally:
        engine.dispose()
    upgrade(store_url)
    with open_store(store_url) as store:
        # a token from before the migration names nobody: it authenticates no one
        found = store.token_by_hash("h" * 64)
        assert found is not None
        assert (found.name, found.user) == ("ci", None)
