"""Hostile or careless input at the entry points: huge ids, versions that are commands,
secrets in argv, a lease left by a process that is gone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from releasegate.errors import LockedError
from releasegate.service import deployments
from releasegate.service.workspace import Workspace

RG = [sys.executable, "-m", "releasegate"]
CONFIG = """\
project: t
environments:
  staging:
    target:
      uses: command
      with:
        deploy: [sh, -c, "echo {version} > live.txt"]
        rollback: [sh, -c, "echo {version} > live.txt"]
        current: [cat, live.txt]
    gates:
      - {id: uses-token, uses: command, with: {run: [echo, "${env:TOKEN}"]}}
    deploy:
      - {id: release, uses: target}
"""


def rg(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RG, *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "TOKEN": "abcdefgh"})


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "releasegate.yaml").write_text(CONFIG)
    return tmp_path


@pytest.mark.parametrize(
    "args",
    [
        ("show", "1" + "0" * 40),
        ("confirm", "9" * 30, "x"),
        ("cancel", "0"),
        ("resume", "9" * 25),
        ("freeze", "remove", "9" * 40),
        ("incident", "close", "9" * 40),
        ("obligation", "close", "9" * 40),
    ],
)
def test_huge_ids_name_nothing(workdir: Path, args: tuple[str, ...]) -> None:
    done = rg(workdir, *args)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: there is no "), done.stderr
    assert "Traceback" not in done.stderr


def test_a_version_that_is_a_command_is_refused_before_anything_runs(workdir: Path) -> None:
    done = rg(workdir, "deploy", "staging", "1.0$(touch INJECTED)", "--yes")
    assert done.returncode == 2
    assert "'$' is not allowed" in done.stderr
    assert not (workdir / "INJECTED").exists()
    assert rg(workdir, "history").stdout.strip() == "no deployments recorded yet"


def test_validate_warns_of_a_secret_in_argv(workdir: Path) -> None:
    done = rg(workdir, "validate")
    assert done.returncode == 0
    assert (
        "warning: releasegate.yaml:11:60: environments.staging.gates[0].with.run[1]: a secret "
        "reference in the command's arguments is readable by every local user"
    ) in done.stderr


def test_a_lease_left_by_a_dead_process_is_taken_at_once_or_sent_to_resume(workdir: Path) -> None:
    ws = Workspace(workdir / "releasegate.yaml")
    actor = ws.actor(requested="ana")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    import socket

    holder = f"ana@{socket.gethostname()}:{dead}"
    store = ws.store
    # a finished deployment still holding its lease (killed between two writes, before 0002)
    done = store.create_deployment(environment="staging", version="0.8", kind="normal", user="x", plan={})
    store.acquire_lock("staging", deployment_id=done.id, holder=holder, ttl_s=600)
    store.set_deployment_status(done.id, "succeeded")
    os.environ["TOKEN"] = "abcdefgh"
    outcome = deployments.deploy(ws, actor, "staging", "1.0")
    assert outcome.status == "succeeded", outcome.detail
    # an unfinished one: resume it, do not run over it
    half = store.create_deployment(environment="staging", version="1.1", kind="normal", user="x", plan={})
    store.set_deployment_status(half.id, "running")
    store.acquire_lock("staging", deployment_id=half.id, holder=holder, ttl_s=600)
    with pytest.raises(LockedError, match=rf"run 'releasegate resume {half.id}'"):
        deployments.deploy(ws, actor, "staging", "1.2")
    ws.close()


def test_a_daemon_left_by_a_step_is_named_in_its_record(tmp_path: Path) -> None:
    (tmp_path / "releasegate.yaml").write_text(
        "project: t\nenvironments:\n  staging:\n    gates:\n"
        "      - {id: starts-daemon, uses: command, with: {run: "
        "[sh, -c, 'sleep 300 > /dev/null 2>&1 & echo started']}}\n"
    )
    done = rg(tmp_path, "--json", "check", "staging", "1.0")
    try:
        assert done.returncode == 0, done.stderr
        assert "left running: " in done.stdout
        assert "sleep 300" in done.stdout
    finally:
        subprocess.run(["pkill", "-f", "^sleep 300$"], check=False)


def test_a_setsid_child_of_a_step_is_named_when_the_deployment_ends(tmp_path: Path) -> None:
    (tmp_path / "releasegate.yaml").write_text(
        "project: t\nenvironments:\n  staging:\n    gates:\n"
        "      - {id: escapes, uses: command, with: {run: "
        "[sh, -c, 'setsid sleep 301 > /dev/null 2>&1 < /dev/null & echo started']}}\n"
    )
    done = rg(tmp_path, "--json", "check", "staging", "1.0")
    try:
        assert done.returncode == 0, done.stderr
        left = [line for line in done.stdout.splitlines() if '"deployment.left_running"' in line]
        assert len(left) == 1, done.stdout
        assert '"step": "escapes"' in left[0]
        assert "sleep 301" in left[0]
        shown = rg(tmp_path, "show", "1", "--format", "md")
        assert shown.returncode == 0
        assert "**left running** after the deployment: pid " in shown.stdout
        assert "(started by step escapes)" in shown.stdout
    finally:
        subprocess.run(["pkill", "-f", "^sleep 301$"], check=False)


def test_a_process_of_another_stores_deployment_with_the_same_id_is_not_named(tmp_path: Path) -> None:
    # Two workspaces on one machine both have a deployment 1; the first leaves a daemon.
    first, second = tmp_path / "first", tmp_path / "second"
    for ws, run in ((first, "setsid sleep 302 > /dev/null 2>&1 < /dev/null & echo started"),
                    (second, "echo nothing left")):
        ws.mkdir()
        (ws / "releasegate.yaml").write_text(
            "project: t\nenvironments:\n  staging:\n    gates:\n"
            f"      - {{id: step, uses: command, with: {{run: [sh, -c, '{run}']}}}}\n"
        )
    try:
        left = rg(first, "--json", "check", "staging", "1.0")
        assert left.returncode == 0, left.stderr
        assert '"deployment.left_running"' in left.stdout  # the daemon still runs
        clean = rg(second, "--json", "check", "staging", "1.0")
        assert clean.returncode == 0, clean.stderr
        assert '"deployment_id": 1' in clean.stdout or '"id": 1' in clean.stdout
        assert '"deployment.left_running"' not in clean.stdout, clean.stdout
    finally:
        subprocess.run(["pkill", "-f", "^sleep 302$"], check=False)
