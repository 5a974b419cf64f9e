"""Deployments mirrored as GitHub Deployments and statuses, through the deploy and
rollback use cases against a local server answering as GitHub's REST API does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.integrations.github_server import REPO, TOKEN, GitHubState, github

from releasegate.identity import Actor
from releasegate.service import deployments, records
from releasegate.service.workspace import Workspace

CONFIG = """\
project: shop
environments:
  production:
    url: https://shop.example
    github: {{repository: {repo}, token: "${{env:RG_TEST_GITHUB_TOKEN}}", api_url: "{api}", timeout: 5s}}
    target:
      uses: command
      with:
        deploy: [sh, -c, "echo {{version}} > live.txt"]
        rollback: [sh, -c, "echo {{version}} > live.txt"]
        current: [cat, live.txt]
    deploy:
      - {{id: release, uses: target}}
      - id: smoke
        uses: command
        with: {{run: [sh, -c, "test \\"$RELEASEGATE_VERSION\\" != 9.9.9"]}}
        on_failure: rollback
"""


@pytest.fixture
def gh() -> Iterator[GitHubState]:
    with github(GitHubState()) as running:
        yield running


def _workspace(tmp_path: Path, gh: GitHubState, *, repo: str = REPO) -> tuple[Workspace, Actor, str]:
    (tmp_path / "releasegate.yaml").write_text(CONFIG.format(repo=repo, api=gh.url))
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "releasegate.yaml"], check=True)
    subprocess.run([*git, "commit", "-qm", "config"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    ws = Workspace(tmp_path / "releasegate.yaml")
    return ws, ws.actor(requested="dev", env_user=None), head


def _events(ws: Workspace, type: str) -> list[dict[str, object]]:
    return [e.data for e in ws.store.list_events(types=(type,))]


def test_a_deployment_is_mirrored_from_in_progress_to_success(
    tmp_path: Path, gh: GitHubState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RG_TEST_GITHUB_TOKEN", TOKEN)
    for key, value in {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": REPO,
                       "GITHUB_RUN_ID": "777"}.items():
        monkeypatch.setenv(key, value)
    ws, actor, head = _workspace(tmp_path, gh)
    try:
        outcome = deployments.deploy(ws, actor, "production", "1.8.0")
        assert outcome.status == "succeeded", outcome.detail
        [dep] = gh.deployments
        assert (dep["ref"], dep["environment"], dep["auto_merge"], dep["required_contexts"]) == (
            head, "production", False, [])
        assert dep["payload"] == {"releasegate": {"deployment": outcome.deployment_id,
                                                  "version": "1.8.0", "kind": "normal"}}
        assert gh.states_of(1) == ["in_progress", "success"]
        status = gh.deployment_statuses[1][-1]
        assert status["log_url"] == "https://github.com/octo-org/shop/actions/runs/777"
        assert status["environment_url"] == "https://shop.example"
        [recorded] = _events(ws, "github.deployment")
        assert {k: recorded[k] for k in ("repository", "github_deployment", "states", "errors")} == {
            "repository": REPO, "github_deployment": 1, "states": ["in_progress", "success"], "errors": []}
        # the next success: GitHub makes the earlier one inactive
        assert deployments.deploy(ws, actor, "production", "1.9.0").status == "succeeded"
        assert gh.states_of(1)[-1] == "inactive"
        assert gh.states_of(2) == ["in_progress", "success"]
        assert all(TOKEN not in json.dumps(e.data) for e in ws.store.list_events())
        audit = records.audit_verify(ws, actor)  # events recorded after the anchor break nothing
        assert audit.ok, audit.problems
    finally:
        ws.close()


def test_a_failed_deployment_rolled_back_is_failure_then_inactive_and_a_rollback_deactivates(
    tmp_path: Path, gh: GitHubState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RG_TEST_GITHUB_TOKEN", TOKEN)
    ws, actor, _ = _workspace(tmp_path, gh)
    try:
        assert deployments.deploy(ws, actor, "production", "1.8.0").status == "succeeded"
        bad = deployments.deploy(ws, actor, "production", "9.9.9")
        assert bad.status == "rolled_back", bad.detail
        assert gh.states_of(2) == ["in_progress", "failure", "inactive"]
        assert gh.deployment_statuses[2][1]["description"].startswith("deploy step smoke failed")
        assert deployments.deploy(ws, actor, "production", "2.0.0").status == "succeeded"
        assert deployments.rollback(ws, actor, "production", reason="checkout is slow").status == "succeeded"
        assert gh.states_of(3) == ["in_progress", "success", "inactive"]
        assert gh.deployment_statuses[3][-1]["description"].startswith("rolled back by releasegate")
        assert (tmp_path / "live.txt").read_text().strip() == "1.8.0"
    finally:
        ws.close()


def test_github_trouble_never_fails_a_deployment_and_is_recorded(
    tmp_path: Path, gh: GitHubState, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, actor, _ = _workspace(tmp_path, gh)
    try:
        monkeypatch.delenv("RG_TEST_GITHUB_TOKEN", raising=False)
        assert deployments.deploy(ws, actor, "production", "1.8.0").status == "succeeded"
        [unavailable] = _events(ws, "github.unavailable")
        assert unavailable["reason"] == ("environments.production.github.token: secret "
                                         "${env:RG_TEST_GITHUB_TOKEN} is not set: no environment "
                                         "variable RG_TEST_GITHUB_TOKEN")
        monkeypatch.setenv("RG_TEST_GITHUB_TOKEN", "ghp_not_the_right_one_42")
        assert deployments.deploy(ws, actor, "production", "1.9.0").status == "succeeded"
        [refused] = _events(ws, "github.deployment")
        assert refused["errors"] == ["GitHub refused the token (401 Bad credentials): check the secret "
                                     "the token comes from"]
        monkeypatch.setenv("RG_TEST_GITHUB_TOKEN", TOKEN)
        gh.rate_limited = True
        assert deployments.deploy(ws, actor, "production", "2.0.0").status == "succeeded"
        limited = _events(ws, "github.deployment")[-1]
        assert str(limited["errors"][0]).startswith("GitHub rate limit reached (5000 requests an hour")  # type: ignore[index]
        assert gh.deployments == []
        assert all("ghp_not_the_right_one_42" not in json.dumps(e.data) for e in ws.store.list_events())
    finally:
        ws.close()


def test_an_unknown_repository_is_said(tmp_path: Path, gh: GitHubState, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RG_TEST_GITHUB_TOKEN", TOKEN)
    ws, actor, _ = _workspace(tmp_path, gh, repo="octo-org/gone")
    try:
        assert deployments.deploy(ws, actor, "production", "1.8.0").status == "succeeded"
        [recorded] = _events(ws, "github.deployment")
        assert recorded["errors"] == ["GitHub answered 404 Not Found for creating a deployment in "
                                      "octo-org/gone: the repository does not exist or the token "
                                      "cannot see it"]
    finally:
        ws.close()


def _wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_resumed_deployment_finishes_the_github_deployment_it_started(
    tmp_path: Path, gh: GitHubState
) -> None:
    ws, _, _ = _workspace(tmp_path, gh)
    ws.close()
    config = tmp_path / "releasegate.yaml"
    config.write_text(config.read_text() + "    post:\n      - {id: announce, uses: command, "
                      "with: {run: [sh, -c, 'if [ -f slow ]; then touch started; sleep 30; fi']}}\n")
    env = {**os.environ, "RG_TEST_GITHUB_TOKEN": TOKEN, "RELEASEGATE_USER": "dev"}
    (tmp_path / "slow").touch()
    proc = subprocess.Popen([sys.executable, "-m", "releasegate", "deploy", "production", "1.8.0", "--yes"],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    _wait_for(lambda: (tmp_path / "started").exists() and gh.states_of(1) == ["in_progress"])
    os.killpg(proc.pid, signal.SIGKILL)  # no github.deployment event was recorded: found by its payload
    proc.wait()
    (tmp_path / "slow").unlink()
    resumed = subprocess.run([sys.executable, "-m", "releasegate", "resume"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert len(gh.deployments) == 1
    assert gh.states_of(1) == ["in_progress", "in_progress", "success"]
    assert gh.deployment_statuses[1][1]["description"] == "resuming 1.8.0"
    ws = Workspace(config)
    try:
        [recorded] = _events(ws, "github.deployment")
        assert (recorded["github_deployment"], recorded["states"]) == (1, ["in_progress", "success"])
    finally:
        ws.close()
