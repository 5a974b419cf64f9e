"""The ``checklist-sync`` gate: a box the config does not cover fails the deployment."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.drivers.checks.checklist_sync import ChecklistSync
from releasegate.testing import run_driver

CHECKLIST = """\
## Before
- [ ] Tests pass
- [ ] Changelog updated
"""

CONFIG = """\
project: shop
checklist: docs/release.md
environments:
  production:
    target: {uses: command, with: {deploy: [./deploy.sh, "{version}"]}}
    gates:
      - {id: sync, uses: checklist-sync}
      - {id: tests, uses: command, with: {run: [make, test]}, checklist: [before/tests-pass]}
      - id: changelog
        name: "TODO: Changelog updated"
        uses: changelog
        checklist: [before/changelog-updated]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "release.md").write_text(CHECKLIST, encoding="utf-8")
    (tmp_path / "releasegate.yaml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


def test_passes_when_every_box_is_covered(project: Path) -> None:
    result = run_driver(ChecklistSync(), {}, workdir=project)
    assert result.ok, result.summary
    assert result.summary == "docs/release.md: every one of its 2 boxes is covered"


def test_a_box_added_to_the_document_fails_it(project: Path) -> None:
    spec = project / "docs" / "release.md"
    spec.write_text(CHECKLIST + "- [ ] Feature flags reviewed\n", encoding="utf-8")
    result = run_driver(ChecklistSync(), {}, workdir=project)
    assert not result.ok
    assert result.summary == ("docs/release.md: 1 of 3 boxes not covered by the config: "
                              "before/feature-flags-reviewed")
    assert result.evidence["uncovered"] == ["before/feature-flags-reviewed"]


def test_suggested_steps_fail_it_only_when_asked(project: Path) -> None:
    result = run_driver(ChecklistSync(), {"allow_suggested": False}, workdir=project)
    assert not result.ok
    assert "before/changelog-updated" in result.summary


def test_a_missing_checklist_is_a_one_line_failure(project: Path) -> None:
    result = run_driver(ChecklistSync(), {"checklist": "nowhere.md"}, workdir=project)
    assert not result.ok
    assert result.summary.startswith("checklist not found: ")
    assert "\n" not in result.summary


def test_a_generated_config_gates_on_its_own_checklist(tmp_path: Path) -> None:
    from releasegate.config.init_writer import write_from_checklist

    spec = tmp_path / "release.md"
    spec.write_text(CHECKLIST, encoding="utf-8")
    write_from_checklist(tmp_path / "releasegate.yaml", spec)
    assert run_driver(ChecklistSync(), {}, workdir=tmp_path).ok
    spec.write_text(CHECKLIST + "- [ ] Feature flags reviewed\n", encoding="utf-8")
    result = run_driver(ChecklistSync(), {}, workdir=tmp_path)
    assert not result.ok
    assert result.evidence["uncovered"] == ["before/feature-flags-reviewed"]


DEPLOYABLE = """\
project: shop
checklist: docs/release.md
environments:
  production:
    target: {uses: command, with: {deploy: [sh, -c, "echo {version} > live.txt"]}}
    gates:
      - {id: sync, uses: checklist-sync}
      - {id: tests, uses: command, with: {run: ["true"]}, checklist: [before/tests-pass]}
      - {id: changelog, uses: command, with: {run: ["true"]}, checklist: [before/changelog-updated]}
    deploy:
      - {id: release, uses: target}
"""


def test_a_deployment_fails_at_the_gate_when_the_document_gained_a_box(project: Path) -> None:
    import os
    import subprocess
    import sys

    (project / "releasegate.yaml").write_text(DEPLOYABLE, encoding="utf-8")
    spec = project / "docs" / "release.md"
    spec.write_text(CHECKLIST + "- [ ] Feature flags reviewed\n", encoding="utf-8")
    env = {**os.environ, "RELEASEGATE_USER": "alice"}
    argv = [sys.executable, "-m", "releasegate", "deploy", "production", "1.0", "--yes"]
    done = subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert ("sync: failed — docs/release.md: 1 of 3 boxes not covered by the config: "
            "before/feature-flags-reviewed") in done.stdout
    assert not (project / "live.txt").exists()
    spec.write_text(CHECKLIST, encoding="utf-8")  # the box is gone again (or the config covers it)
    done = subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (project / "live.txt").read_text(encoding="utf-8").strip() == "1.0"
