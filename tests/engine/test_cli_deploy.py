"""End to end through the real CLI, real drivers, real processes and a real store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

RG = [sys.executable, "-m", "releasegate"]


def rg(cwd: Path, *args: str, user: str = "alice", timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RELEASEGATE_USER": user}
    return subprocess.run([*RG, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def write_config(cwd: Path, body: str) -> None:
    (cwd / "releasegate.yaml").write_text("project: t\nenvironments:\n" + body)


TARGET = """\
    target:
      uses: command
      with:
        deploy: [sh, -c, "echo {version} > live.txt"]
        rollback: [sh, -c, "echo {version} > live.txt"]
        current: [cat, live.txt]
"""


def test_deploy_json_lines_and_exit_codes(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        "  staging:\n"
        + TARGET
        + "    gates:\n      - {id: unit, uses: command, with: {run: [python3, -c, 'print(42)']}}\n"
        "    deploy:\n      - {id: release, uses: target}\n"
        "      - {id: health, uses: command, with: {run: [sh, -c, 'test $RELEASEGATE_VERSION != 2.0']}, on_failure: rollback}\n",
    )
    done = rg(tmp_path, "--json", "deploy", "staging", "1.0")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert events[0]["event"] == "deployment.started"
    assert events[-1] == {**events[-1], "event": "deployment.finished", "status": "succeeded"}
    assert (tmp_path / "live.txt").read_text().strip() == "1.0"

    bad = rg(tmp_path, "deploy", "staging", "2.0")
    assert bad.returncode == 5, bad.stdout + bad.stderr  # failed and rolled back cleanly
    assert (tmp_path / "live.txt").read_text().strip() == "1.0"
    assert "deployment 2: rolled_back — deploy step health failed" in bad.stdout

    assert rg(tmp_path, "audit", "verify").returncode == 0
    show = rg(tmp_path, "show", "2", "--format", "md")
    assert "| deploy:undo | release | 1 | succeeded |" in show.stdout


def test_unknown_environment_is_a_usage_error(tmp_path: Path) -> None:
    write_config(tmp_path, "  staging: {}\n")
    done = rg(tmp_path, "deploy", "prod", "1.0")
    assert done.returncode == 2
    assert done.stderr.strip() == "error: unknown environment 'prod' (known: staging)"


def _wait_for(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def test_two_deploys_race_for_one_environment(tmp_path: Path) -> None:
    # The first deploy's gate holds the environment until the test says "go": the second
    # deploy always runs while the first is in, however slow the machine.
    write_config(
        tmp_path,
        "  staging:\n    gates:\n      - {id: hold, uses: command, with: {run: [sh, -c, "
        "'touch started; until [ -f go ]; do sleep 0.05; done']}}\n",
    )
    first = subprocess.Popen(
        [*RG, "deploy", "staging", "1.0"], cwd=tmp_path, env={**os.environ, "RELEASEGATE_USER": "ci-bot"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        _wait_for(lambda: (tmp_path / "started").exists(), timeout=120)
        second = rg(tmp_path, "deploy", "staging", "1.1", user="bob")
        assert second.returncode == 4
        assert second.stderr.startswith("locked: staging is locked by deployment 1 (1.0, started by ci-bot")
        (tmp_path / "go").touch()
        first.communicate(timeout=120)
        assert first.returncode == 0
    finally:
        (tmp_path / "go").touch()  # the gate ends even when an assertion failed
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        first.communicate()


SLOW_IF_FLAGGED = "if [ -f slow ]; then touch started; sleep 30; fi"


def _kill_when_started(tmp_path: Path, *args: str) -> None:
    (tmp_path / "slow").touch()
    proc = subprocess.Popen(
        [*RG, *args], cwd=tmp_path, env={**os.environ, "RELEASEGATE_USER": "alice"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    _wait_for(lambda: (tmp_path / "started").exists())
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and the step's shell die at once
    proc.wait()
    (tmp_path / "slow").unlink()
    history = json.loads(rg(tmp_path, "--json", "history").stdout)
    assert history[0]["status"] == "running"  # what a killed process leaves behind


def test_kill_9_mid_step_then_resume_finishes_and_the_chain_verifies(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        "  staging:\n"
        + TARGET
        + "    deploy:\n      - {id: release, uses: target}\n"
        "    post:\n      - {id: announce, uses: command, with: {run: [sh, -c, 'echo run >> announce.log; "
        + SLOW_IF_FLAGGED
        + "']}}\n",
    )
    assert rg(tmp_path, "deploy", "staging", "1.0").returncode == 0
    _kill_when_started(tmp_path, "deploy", "staging", "2.0")

    resumed = rg(tmp_path, "resume")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    history = json.loads(rg(tmp_path, "--json", "history").stdout)
    assert (history[0]["version"], history[0]["status"]) == ("2.0", "succeeded")
    assert (tmp_path / "live.txt").read_text().strip() == "2.0"
    # once for 1.0, once when killed, once more on resume (command steps are safe to re-run)
    assert (tmp_path / "announce.log").read_text().split() == ["run", "run", "run"]
    audit = rg(tmp_path, "audit", "verify")
    assert audit.returncode == 0, audit.stdout


def test_kill_9_midway_through_deploy_then_resume_rolls_back(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        "  staging:\n"
        + TARGET
        + "    deploy:\n      - {id: release, uses: target}\n"
        "      - {id: warmup, uses: command, with: {run: [sh, -c, 'echo $$ > warmup.pid; " + SLOW_IF_FLAGGED + "']}}\n",
    )
    assert rg(tmp_path, "deploy", "staging", "1.0").returncode == 0
    _kill_when_started(tmp_path, "deploy", "staging", "2.0")
    assert (tmp_path / "live.txt").read_text().strip() == "2.0"  # the swap had happened
    orphan = int((tmp_path / "warmup.pid").read_text())
    assert Path(f"/proc/{orphan}").exists()  # the step's shell outlived the killed CLI

    resumed = rg(tmp_path, "resume")
    assert resumed.returncode == 5, resumed.stdout + resumed.stderr
    assert not Path(f"/proc/{orphan}").exists()  # resume stopped it before rolling back
    assert (tmp_path / "live.txt").read_text().strip() == "1.0"
    history = json.loads(rg(tmp_path, "--json", "history").stdout)
    assert history[0]["status"] == "rolled_back"
    assert rg(tmp_path, "audit", "verify").returncode == 0


@pytest.mark.parametrize("sig", [signal.SIGINT])
def test_ctrl_c_cancels_cleanly_and_exits_130(tmp_path: Path, sig: int) -> None:
    write_config(
        tmp_path,
        "  staging:\n    gates:\n      - {id: hang, uses: command, with: {run: [sh, -c, 'touch started; sleep 30']}}\n",
    )
    proc = subprocess.Popen(
        [*RG, "deploy", "staging", "1.0"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    _wait_for(lambda: (tmp_path / "started").exists())
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, out + err
    history = json.loads(rg(tmp_path, "--json", "history").stdout)
    assert history[0]["status"] == "cancelled"
    steps = json.loads(rg(tmp_path, "show", "1", "--format", "json").stdout)["steps"]
    assert [(s["step"], s["status"]) for s in steps] == [("hang", "cancelled")]


def test_irreversible_migration_is_undone_by_restoring_this_deployments_backup(tmp_path: Path) -> None:
    """Real drivers: a SQLite backup, a migration that destroys data, a failed health check;
    rollback swaps the target back and restores the backup, and the data is back."""
    import sqlite3

    db = tmp_path / "app.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE payments (id INTEGER PRIMARY KEY, method TEXT)")
        conn.executemany("INSERT INTO payments (method) VALUES (?)", [("card",), ("upi",), ("wallet",)])
    migration = "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('DROP TABLE payments'); c.commit()"
    write_config(
        tmp_path,
        "  staging:\n"
        + TARGET
        + "    deploy:\n"
        f"      - {{id: backup, uses: backup, with: {{database: 'sqlite:///{db}'}}}}\n"
        f"      - {{id: migrate, uses: migrate, with: {{run: [python3, -c, \"{migration}\", {db}], mode: irreversible}}}}\n"
        "      - {id: release, uses: target}\n"
        "      - {id: health, uses: command, with: {run: [sh, -c, 'test $RELEASEGATE_VERSION != 2.0']}, on_failure: rollback}\n",
    )
    assert rg(tmp_path, "deploy", "staging", "1.0").returncode == 0
    with sqlite3.connect(db) as conn:  # 1.0 ran the same migration: put the data back
        conn.execute("CREATE TABLE IF NOT EXISTS payments (id INTEGER PRIMARY KEY, method TEXT)")
        if not conn.execute("SELECT count(*) FROM payments").fetchone()[0]:
            conn.executemany("INSERT INTO payments (method) VALUES (?)", [("card",), ("upi",), ("wallet",)])
    done = rg(tmp_path, "deploy", "staging", "2.0")
    assert done.returncode == 5, done.stdout + done.stderr
    assert (tmp_path / "live.txt").read_text().strip() == "1.0"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT method FROM payments ORDER BY id").fetchall() == [("card",), ("upi",), ("wallet",)]
    steps = json.loads(rg(tmp_path, "show", "2", "--format", "json").stdout)["steps"]
    assert [(s["step"], s["phase"], s["status"]) for s in steps if s["phase"] != "deploy"] == [
        ("release", "deploy:undo", "succeeded"),
        ("migrate", "deploy:undo", "failed"),
        ("restore-backup", "rollback", "succeeded"),
    ]


def test_check_runs_the_gates_only_and_is_not_a_deployment(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        "  staging:\n"
        + TARGET
        + "    gates:\n      - {id: unit, uses: command, with: {run: [sh, -c, 'test $RELEASEGATE_VERSION != 9.9']}}\n"
        "    deploy:\n      - {id: release, uses: target}\n",
    )
    ok = rg(tmp_path, "check", "staging", "1.0")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "deployment 1: checked — 1 gates passed" in ok.stdout
    bad = rg(tmp_path, "check", "staging", "9.9")
    assert bad.returncode == 1
    assert "deployment 2: check_failed — gate unit failed" in bad.stdout
    assert not (tmp_path / "live.txt").exists()  # nothing was deployed
    status = json.loads(rg(tmp_path, "--json", "status").stdout)
    assert status["environments"][0]["live_version"] is None


def test_changed_paths_since_the_live_commit_drive_if_conditions(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    write_config(
        tmp_path,
        "  staging:\n    deploy:\n"
        "      - {id: migrate, uses: command, with: {run: [/bin/true]}, if: \"changed('migrations/*')\"}\n"
        "      - {id: beta, uses: command, with: {run: [/bin/true]}, if: flags.beta}\n",
    )
    git("init", "-q", "-b", "main")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "start")

    def statuses(out: str) -> dict[str, str]:
        dep = json.loads(out)
        return {s["step"]: s["status"] for s in dep["steps"]}

    # nothing recorded yet: what changed is unknown, so the conditional step runs
    assert rg(tmp_path, "deploy", "staging", "1.0").returncode == 0
    assert statuses(rg(tmp_path, "show", "1", "--format", "json").stdout) == {"migrate": "succeeded", "beta": "skipped"}
    (tmp_path / "README").write_text("docs only\n")
    git("add", "README")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "docs")
    assert rg(tmp_path, "deploy", "staging", "1.1", "--flag", "beta").returncode == 0
    assert statuses(rg(tmp_path, "show", "2", "--format", "json").stdout) == {"migrate": "skipped", "beta": "succeeded"}
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "0002.sql").write_text("ALTER TABLE x ADD y;\n")
    git("add", "migrations")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "migration")
    assert rg(tmp_path, "deploy", "staging", "1.2").returncode == 0
    assert statuses(rg(tmp_path, "show", "3", "--format", "json").stdout) == {"migrate": "succeeded", "beta": "skipped"}


def test_resume_refuses_a_deployment_whose_process_is_alive(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        "  staging:\n    gates:\n      - {id: slow, uses: command, with: {run: [sh, -c, 'touch started; sleep 4']}}\n",
    )
    first = subprocess.Popen(
        [*RG, "deploy", "staging", "1.0"], cwd=tmp_path, env={**os.environ, "RELEASEGATE_USER": "alice"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        _wait_for(lambda: (tmp_path / "started").exists())
        resumed = rg(tmp_path, "resume")
        assert resumed.returncode == 4, resumed.stdout + resumed.stderr
        assert "deployment 1 is still running (alice@" in resumed.stderr
        first.communicate(timeout=30)
        assert first.returncode == 0
    finally:
        first.kill()
        first.communicate()
    history = json.loads(rg(tmp_path, "--json", "history").stdout)
    assert history[0]["status"] == "succeeded"


def test_secret_references_in_arguments_are_resolved_and_never_shown(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        "  staging:\n    gates:\n"
        "      - {id: token, uses: command, with: {run: [sh, -c, 'test \"$1\" = s3cr3t-value && echo \"got $1 and $${HOME:+home}\"', x, '${env:DEMO_TOKEN}']}}\n",
    )
    env = {**os.environ, "RELEASEGATE_USER": "alice", "DEMO_TOKEN": "s3cr3t-value"}
    done = subprocess.run([*RG, "deploy", "staging", "1.0"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    shown = json.loads(rg(tmp_path, "show", "1", "--format", "json").stdout)
    [step] = shown["steps"]
    assert step["output"].strip() == "got *** and home"
    assert "s3cr3t-value" not in done.stdout + done.stderr + json.dumps(shown)


def test_an_interrupted_check_is_closed_not_driven_on(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        "  staging:\n" + TARGET
        + "    gates:\n      - {id: slow, uses: command, with: {run: [sh, -c, 'touch started; sleep 30']}}\n"
        "    deploy:\n      - {id: release, uses: target}\n",
    )
    proc = subprocess.Popen(
        [*RG, "check", "staging", "7.0"], cwd=tmp_path, env={**os.environ, "RELEASEGATE_USER": "alice"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    _wait_for(lambda: (tmp_path / "started").exists())
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    resumed = rg(tmp_path, "resume")
    assert resumed.returncode == 2
    assert "was a check (gates only) that was interrupted" in resumed.stderr
    assert not (tmp_path / "live.txt").exists()
    history = json.loads(rg(tmp_path, "--json", "history").stdout)
    assert (history[0]["status"], history[0]["detail"]) == ("check_failed", "interrupted; run the check again")


def test_history_off_a_terminal_is_one_plain_line_per_deployment(tmp_path: Path) -> None:
    write_config(tmp_path, "  staging:\n    gates:\n      - {id: t, uses: command, with: {run: [/bin/true]}}\n")
    assert rg(tmp_path, "deploy", "staging", "1.0").returncode == 0
    lines = rg(tmp_path, "history").stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].split("\t")[:6] == ["1", "staging", "1.0", "normal", "succeeded", "alice"]


def test_status_warns_when_a_failed_deploy_changed_the_environment(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        "  staging:\n" + TARGET
        + "    deploy:\n      - {id: release, uses: target}\n"
        "      - {id: flaky, uses: command, with: {run: [sh, -c, 'test $RELEASEGATE_VERSION != 2.0']}}\n",
    )
    assert rg(tmp_path, "deploy", "staging", "1.0").returncode == 0
    assert rg(tmp_path, "deploy", "staging", "2.0").returncode == 1  # stop: not rolled back
    status = json.loads(rg(tmp_path, "--json", "status").stdout)["environments"][0]
    assert status["live_version"] == "1.0"
    assert status["attention"].startswith("deployment 2 (2.0) failed after changing staging")
    assert (tmp_path / "live.txt").read_text().strip() == "2.0"
