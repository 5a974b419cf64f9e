"""What a newcomer trips over: global options anywhere, JSON on every exit path, empty
states that say so, one verify branch, output that does not wrap in a pipe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

RG = [sys.executable, "-m", "releasegate"]

CONFIG = """\
project: t
calendars:
  always: {dates: [{from: 2000-01-01, to: 2100-12-31}], reason: "frozen for the test"}
environments:
  production:
    freezes: [always]
    target:
      uses: command
      with:
        deploy: [sh, -c, "echo {version} > live.txt"]
        rollback: [sh, -c, "echo {version} > live.txt"]
        current: [cat, live.txt]
    deploy:
      - {id: a-step-with-a-rather-long-name-so-that-its-line-is-well-past-eighty-columns, uses: target}
    verify:
      - {stage: immediate, for: 5m, check: {error_rate: "< 1%"}}
"""


def rg(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    return subprocess.run([*RG, *args], cwd=cwd, capture_output=True, text=True, timeout=60, env=env)


def test_global_options_work_after_the_command(tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text(CONFIG)
    done = rg(tmp_path, "validate", "-c", "other.yaml", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["config"] == "other.yaml"


def test_json_refusal_prints_json_events_and_the_error(tmp_path: Path) -> None:
    (tmp_path / "releasegate.yaml").write_text(CONFIG)
    done = rg(tmp_path, "--json", "deploy", "production", "1.0", "--yes")
    assert done.returncode == 3, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[0]["event"] == "deployment.blocked"
    assert lines[0]["summary"] == "production: deployment blocked by policy (freeze:always)"
    assert lines[-1]["error"]["kind"] == "blocked"
    assert lines[-1]["error"]["exit"] == 3
    assert done.stderr.startswith("blocked: production: deployment blocked by policy (freeze:always)")
    unknown = rg(tmp_path, "deploy", "prod", "1.0", "--json")
    assert unknown.returncode == 2
    assert json.loads(unknown.stdout) == {"error": {
        "kind": "error", "message": "unknown environment 'prod' "
        "(known: production)", "details": [], "exit": 2,
    }}


def test_empty_history_says_so_and_plan_shows_verify_once(tmp_path: Path) -> None:
    (tmp_path / "releasegate.yaml").write_text(CONFIG)
    assert rg(tmp_path, "history").stdout.strip() == "no deployments recorded yet"
    plan = rg(tmp_path, "plan", "production", "1.0")
    assert plan.returncode == 0, plan.stderr
    assert plan.stdout.count("verify (") == 1
    # piped, a long line stays one line (copy-paste works)
    assert any(
        "a-step-with-a-rather-long-name-so-that-its-line-is-well-past-eighty-columns" in line
        for line in plan.stdout.splitlines()
    )
