"""``action.yml``: the composite action's own script, run by bash as the runner would run
it (the inputs given as the step's ``env:`` maps them), against a real releasegate and a
real config — exit codes preserved, outputs set, the job summary and annotations written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).parents[2]
ACTION = ROOT / "action.yml"

CONFIG = """\
project: shop
calendars:
  always: {dates: [{from: 2000-01-01, to: 2100-12-31}]}
users:
  dev: {roles: [deployer]}
environments:
  staging:
    target: {uses: command, with: {deploy: [sh, -c, "echo {version} > live.txt"], rollback: ["true"]}}
    gates:
      - id: tests
        uses: command
        with: {run: [sh, -c, "test \\"$RELEASEGATE_VERSION\\" != 0.0.1"]}
    deploy:
      - {id: release, uses: target}
  frozen:
    freezes: [always]
    target: {uses: command, with: {deploy: ["true"], rollback: ["true"]}}
    deploy:
      - {id: release, uses: target}
"""


def _action() -> Any:
    return YAML(typ="safe", pure=True).load(ACTION.read_text())


def _expression(value: str, inputs: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        expr = match.group(1).strip()
        if expr.startswith("inputs."):
            return inputs[expr.removeprefix("inputs.")]
        assert expr == "github.actor", f"an expression the test does not know: {expr}"
        return "dev"

    return re.sub(r"\$\{\{(.*?)\}\}", one, value)


def run_action(tmp_path: Path, **given: str) -> tuple[subprocess.CompletedProcess[str], dict[str, str], str]:
    """Run the action's releasegate step; (the process, its outputs, the job summary)."""
    action = _action()
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    inputs.update({k.replace("_", "-"): v for k, v in given.items()})
    [step] = [s for s in action["runs"]["steps"] if s.get("id") == "run"]
    output, summary = tmp_path / "output.txt", tmp_path / "summary.md"
    output.unlink(missing_ok=True)  # each step has a GITHUB_OUTPUT of its own
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RELEASEGATE_"))}
    env.update({name: _expression(str(value), inputs) for name, value in step["env"].items()})
    env.update({
        "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
        "RUNNER_TEMP": str(tmp_path), "PATH": f"{Path(sys.executable).parent}:{env['PATH']}",
        "PYTHONPATH": str(ROOT / "src"),
    })
    assert "${{" not in step["run"], "inputs must reach the script as variables, not pasted in"
    done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tmp_path / _expression(
        step["working-directory"], inputs), env=env, capture_output=True, text=True, timeout=120)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines()) if output.exists() else {}
    return done, outputs, summary.read_text() if summary.exists() else ""


def _workspace(tmp_path: Path) -> Path:
    (tmp_path / "releasegate.yaml").write_text(CONFIG)
    return tmp_path


def test_the_action_is_a_composite_whose_inputs_and_outputs_hold_together() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    text = ACTION.read_text()
    used = set(re.findall(r"inputs\.([a-z-]+)", text))
    assert used <= set(action["inputs"]), used - set(action["inputs"])
    assert {"environment", "version"} == {n for n, s in action["inputs"].items() if s.get("required")}
    for name, spec in action["outputs"].items():
        assert spec["value"] == f"${{{{ steps.run.outputs.{name} }}}}"
    for step in action["runs"]["steps"]:
        assert "uses" in step or step.get("shell") == "bash", step


def test_a_deployment_succeeds_with_its_outputs_and_summary(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    done, outputs, summary = run_action(ws, environment="staging", version="1.2.0", junit="junit.xml")
    assert done.returncode == 0, done.stderr
    assert outputs == {"exit-code": "0", "deployment-id": "1", "status": "succeeded"}
    assert (ws / "live.txt").read_text().strip() == "1.2.0"
    assert summary.startswith("# Deployment 1: 1.2.0 to staging — succeeded")
    assert "* by: dev" in summary  # the GitHub actor, as releasegate's user
    assert b"<testsuites" in (ws / "junit.xml").read_bytes()


def test_a_failed_gate_keeps_exit_1_and_is_annotated(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    done, outputs, summary = run_action(ws, environment="staging", version="0.0.1")
    assert done.returncode == 1
    assert outputs == {"exit-code": "1", "deployment-id": "1", "status": "failed"}
    line = CONFIG.splitlines().index("      - id: tests") + 1
    assert f"::error file=releasegate.yaml,line={line},title=staging%3A gate tests failed::" in done.stderr
    assert "| gates | tests | 1 | failed |" in summary


def test_a_refusal_keeps_exit_3(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    done, outputs, _ = run_action(ws, environment="frozen", version="1.2.0")
    assert done.returncode == 3
    assert outputs == {"exit-code": "3", "deployment-id": "", "status": "blocked"}


def test_check_and_a_wrong_command(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    done, outputs, _ = run_action(ws, environment="staging", version="1.2.0", command="check")
    assert done.returncode == 0, done.stderr
    assert outputs["status"] == "checked"
    assert not (ws / "live.txt").exists()
    wrong, outputs, _ = run_action(ws, environment="staging", version="1.2.0", command="destroy")
    assert wrong.returncode == 2
    assert outputs == {"exit-code": "2"}
    assert "::error title=releasegate::command must be deploy or check, not 'destroy'" in wrong.stdout


def test_the_example_workflow_uses_the_action_as_it_is_and_its_config_is_valid() -> None:
    from releasegate.config.loader import load_config
    from releasegate.drivers.api import load_registry

    example = ROOT / "examples" / "github"
    workflow = YAML(typ="safe", pure=True).load((example / "deploy.yml").read_text())
    inputs = set(_action()["inputs"])
    used = [step for job in workflow["jobs"].values() for step in job["steps"]
            if str(step.get("uses", "")).startswith("releasegate/releasegate@")]
    assert [step["with"]["environment"] for step in used] == ["staging", "production"]
    for step in used:
        assert set(step["with"]) <= inputs, set(step["with"]) - inputs
        assert step["with"]["database-url"] == "${{ secrets.RELEASEGATE_DATABASE_URL }}"
    assert workflow["permissions"]["deployments"] == "write"
    config = load_config(example / "releasegate.yaml", catalog=load_registry())
    assert config.environments["production"].promote_from == "staging"
    assert all(env.github is not None for env in config.environments.values())


PROMOTION = """\
project: shop
environments:
  staging:
    target: {uses: command, with: {deploy: [sh, -c, "echo {version} > live.txt"], rollback: ["true"]}}
    deploy:
      - {id: release, uses: target}
  production:
    promote_from: staging
    soak: {normal: 0s}
    target: {uses: command, with: {deploy: [sh, -c, "echo {version} > live.txt"], rollback: ["true"]}}
    deploy:
      - {id: release, uses: target}
"""


@pytest.mark.postgres
def test_two_jobs_on_fresh_runners_share_one_postgresql_store(tmp_path: Path, pg_url: str) -> None:
    """The example workflow's shape: staging and production run on different runners (here,
    different checkouts) and promotion holds only because both record in one store."""
    runners = {}
    for job in ("staging-runner", "production-runner", "late-runner"):
        runners[job] = tmp_path / job
        runners[job].mkdir()
        (runners[job] / "releasegate.yaml").write_text(PROMOTION)
    staged, outputs, _ = run_action(runners["staging-runner"], environment="staging", version="1.2.0",
                                    database_url=pg_url)
    assert staged.returncode == 0, staged.stderr
    promoted, outputs, summary = run_action(runners["production-runner"], environment="production",
                                            version="1.2.0", database_url=pg_url)
    assert promoted.returncode == 0, promoted.stderr
    assert outputs == {"exit-code": "0", "deployment-id": "2", "status": "succeeded"}
    assert "promotion allow" in summary
    skipped, outputs, summary = run_action(runners["late-runner"], environment="production",
                                           version="1.3.0", database_url=pg_url)
    assert skipped.returncode == 3
    assert outputs["status"] == "blocked"
    assert "promotion" in summary
    assert not (runners["late-runner"] / ".releasegate").exists()  # nothing recorded beside the checkout
