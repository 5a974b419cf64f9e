"""``--junit`` and GitHub Actions' job summary and annotations, through the real command
line: a deployment whose gate fails, a check that passes, a refusal by policy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.integrations.junit_shape import check as check_shape

RG = [sys.executable, "-m", "releasegate"]

CONFIG = """\
project: t
calendars:
  always: {dates: [{from: 2000-01-01, to: 2100-12-31}], reason: "frozen for the test"}
environments:
  staging:
    target:
      uses: command
      with:
        deploy: [sh, -c, "echo {version} > live.txt"]
        rollback: [sh, -c, "echo {version} > live.txt"]
        current: [cat, live.txt]
    gates:
      - {id: unit-tests, uses: command, with: {run: [sh, -c, "echo 12 passed"]}, checklist: [pre.tests]}
      - id: lint
        uses: command
        with: {run: [sh, -c, "echo 'src/a.py:3: E501, too long' >&2; exit 3"]}
        needs: [unit-tests]
      - {id: only-major, uses: command, with: {run: ["true"]}, if: "kind == 'major'"}
    deploy:
      - {id: release, uses: target}
  frozen:
    freezes: [always]
    target: {uses: command, with: {deploy: ["true"], rollback: ["true"]}}
    deploy:
      - {id: release, uses: target}
"""


def rg(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    return subprocess.run([*RG, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**base, **(env or {})})


def _workspace(tmp_path: Path, gates_pass: bool = False) -> Path:
    text = CONFIG.replace("exit 3", "exit 0") if gates_pass else CONFIG
    (tmp_path / "releasegate.yaml").write_text(text)
    return tmp_path


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_a_failed_gate_is_a_junit_failure_an_annotation_and_a_summary(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    (ws / "out").mkdir()
    done = rg(ws, "--json", "deploy", "staging", "1.4.0", "--yes", "--junit", "out/report.xml",
              env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    assert done.returncode == 1, done.stderr
    for line in done.stdout.splitlines():  # --json: stdout stays JSON lines, annotations go to stderr
        json.loads(line)
    root = check_shape((ws / "out" / "report.xml").read_bytes())
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert list(cases) == ["unit-tests", "lint", "only-major", "release"]
    failure = cases["lint"].find("failure")
    assert failure is not None
    assert failure.get("type") == "failed"
    assert "exit" in (failure.get("message") or "")
    assert "E501, too long" in (failure.text or "")
    assert cases["lint"].get("file") == "releasegate.yaml"
    assert cases["lint"].get("line") == str(_line_of(ws / "releasegate.yaml", "- id: lint"))
    assert cases["unit-tests"].find("failure") is None
    assert cases["unit-tests"].find("skipped") is None
    skipped = cases["release"].find("skipped")
    assert skipped is not None
    assert skipped.get("message", "").startswith("not run")
    assert cases["only-major"].find("skipped") is not None
    suites = {s.get("name"): s for s in root}
    assert (suites["staging.gates"].get("tests"), suites["staging.gates"].get("failures")) == ("3", "1")
    annotations = [line for line in done.stderr.splitlines() if line.startswith("::")]
    line = _line_of(ws / "releasegate.yaml", "- id: lint")
    assert len(annotations) == 1
    assert annotations[0].startswith(
        f"::error file=releasegate.yaml,line={line},title=staging%3A gate lint failed::")
    text = summary.read_text()
    assert text.startswith("# earlier step\n# Deployment 1: 1.4.0 to staging — failed")
    assert "- [x] **unit-tests** (`pre.tests`)" in text
    assert "| gates | lint | 1 | failed |" in text


def test_a_check_that_passes_writes_its_gates_only(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, gates_pass=True)
    done = rg(ws, "check", "staging", "1.4.0", "--junit", "gates.xml")
    assert done.returncode == 0, done.stderr
    assert "::" not in done.stderr  # not under Actions: no annotations
    root = check_shape((ws / "gates.xml").read_bytes())
    assert [s.get("name") for s in root] == ["staging.gates"]
    assert root.get("failures") == "0"
    assert root.get("tests") == "3"
    assert root.get("skipped") == "1"
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["status"] == "checked"
    assert props["version"] == "1.4.0"


def test_a_refusal_by_policy_is_one_failed_case_and_exit_3(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    summary = tmp_path / "summary.md"
    done = rg(ws, "deploy", "frozen", "2.0.0", "--yes", "--junit", "r.xml", "--github-summary",
              env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert done.returncode == 3, done.stderr
    root = check_shape((ws / "r.xml").read_bytes())
    [case] = list(root.iter("testcase"))
    failure = case.find("failure")
    assert failure is not None
    assert "freeze:always" in (failure.get("message") or "")
    assert summary.read_text().startswith("# deploy 2.0.0 to frozen — blocked")
    assert "::error title=frozen%3A refused by policy::frozen: deployment blocked by policy (freeze:always)" in done.stderr


def test_summary_without_its_file_is_refused_before_anything_runs(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    done = rg(ws, "deploy", "staging", "1.4.0", "--yes", "--github-summary")
    assert done.returncode == 2
    assert "GITHUB_STEP_SUMMARY is not set" in done.stderr
    assert not (ws / "live.txt").exists()
    missing = rg(ws, "check", "staging", "1.4.0", "--junit", "no/such/dir/r.xml")
    assert missing.returncode == 2
    assert "the directory no/such/dir does not exist" in missing.stderr
