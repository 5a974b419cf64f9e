"""The example's releasegate.yaml: valid, the whole checklist covered, every step runnable."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from releasegate.config.loader import load_config
from releasegate.drivers.api import load_registry

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "camarketplace"
CONFIG = EXAMPLE / "releasegate.yaml"
SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "deployment-checklist.md"
MIN_AUTOMATED = 0.70
"""The issue asks for 70 % of the items proved by steps and policy (85 of 114 today)."""


def _cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "CAMARKETPLACE_STAGING_DB": f"sqlite:///{tmp_path}/staging.db",
        "CAMARKETPLACE_PRODUCTION_DB": f"sqlite:///{tmp_path}/production.db",
        "RELEASEGATE_DATABASE_URL": f"sqlite:///{tmp_path}/state.db",
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),  # a worktree's own src, when set
    }
    return subprocess.run(
        [sys.executable, "-m", "releasegate", "-c", str(CONFIG), *args],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )


def test_config_validates(tmp_path: Path) -> None:
    result = _cli("validate", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr


def test_checklist_copy_is_verbatim() -> None:
    if not SPEC.is_file():
        pytest.skip("the shared spec is not next to this checkout")
    assert (EXAMPLE / "checklist.md").read_bytes() == SPEC.read_bytes()


def test_coverage_has_every_item_and_enough_automated(tmp_path: Path) -> None:
    result = _cli("--json", "checklist", "coverage", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["total"] == 114
    assert data["missing"] == 0
    assert (data["automated"] + data["policy"]) / data["total"] >= MIN_AUTOMATED
    assert data["warnings"] == []


def test_every_step_uses_a_registered_driver_and_runnable_program() -> None:
    config = load_config(CONFIG)
    registry = load_registry()
    for name, env in config.environments.items():
        assert env.target is not None
        registry.get("target", env.target.uses)
        for step in [*env.gates, *env.deploy, *env.post, *env.rollback.steps]:
            if step.uses == "target":
                continue
            registry.get("step", step.uses)
            if step.uses == "git":
                assert shutil.which("git"), f"{name}.{step.id}: git not found"
            commands = [step.with_.get(key) for key in ("run", "status", "enable", "disable")]
            for argv in [c for c in commands if isinstance(c, list)]:
                program = str(argv[0])
                assert shutil.which(program), f"{name}.{step.id}: {program} not found"
                scripts = [a for a in argv[1:] if isinstance(a, str) and a.startswith("scripts/")]
                for script in scripts:
                    assert (EXAMPLE / script).is_file(), f"{name}.{step.id}: {script} missing"


def test_verify_stages_claim_no_checklist_items() -> None:
    config = load_config(CONFIG)
    for env in config.environments.values():
        assert all(not stage.checklist for stage in env.verify)


def test_plan_production(tmp_path: Path) -> None:
    result = _cli("plan", "production", "1.2.0", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    for step in ("backup", "backup-verify", "migrate", "release", "health", "version", "smoke"):
        assert step in result.stdout


def test_notification_secrets_are_secret_references() -> None:
    """The checklist's messages are notify steps to the notify: route named slack, and the
    status page's key reaches the statuspage steps, only as references: no script of its own."""
    config = load_config(CONFIG)
    told: dict[str, int] = {"notify": 0, "statuspage": 0}
    for env in config.environments.values():
        for step in [*env.gates, *env.deploy, *env.post]:
            run = step.with_.get("run")
            assert not (isinstance(run, list) and any("notify" in str(a) for a in run)), step.id
            if step.uses == "notify":
                assert step.with_["to"] == "slack", step.id
                told["notify"] += 1
            if step.uses == "statuspage":  # the maintenance's open, customer updates, resolve
                assert step.with_["page"] == "${env:STATUSPAGE_PAGE_URL}", step.id
                assert step.with_["api_key"] == "${env:STATUSPAGE_API_KEY}", step.id
                told["statuspage"] += 1
    assert told == {"notify": 4, "statuspage": 4}
    assert not (EXAMPLE / "scripts" / "notify.py").exists()
    assert [(route.name, route.url) for route in config.notify] == [("slack", "${env:SLACK_NOTIFY_URL}")]
