"""``dependency-audit`` on realistic npm audit (v6, v7+) and pip-audit reports."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from releasegate.drivers.checks.dependency_audit import DependencyAudit
from releasegate.testing import run_driver

SAMPLES = Path(__file__).parent / "audit_samples"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    for sample in SAMPLES.iterdir():
        shutil.copy(sample, tmp_path / sample.name)
    return tmp_path


def test_npm_v7_high_fails_by_default(workdir: Path) -> None:
    result = run_driver(DependencyAudit(), {"file": "npm-v7.json"}, workdir=workdir)
    assert not result.ok
    assert result.summary == "1 high or worse: axios (high)"
    assert result.evidence["counts"] == {"high": 1, "moderate": 1, "low": 1}


def test_threshold_is_configurable(workdir: Path) -> None:
    assert run_driver(DependencyAudit(), {"file": "npm-v7.json", "fail_on": "critical"}, workdir=workdir).ok
    result = run_driver(DependencyAudit(), {"file": "npm-v7.json", "fail_on": "moderate"}, workdir=workdir)
    assert result.summary == "2 moderate or worse: axios (high), follow-redirects (moderate)"


def test_npm_v6_critical(workdir: Path) -> None:
    result = run_driver(DependencyAudit(), {"file": "npm-v6.json"}, workdir=workdir)
    assert not result.ok
    assert "lodash: critical: Prototype Pollution" in result.output


def test_pip_audit_counts_each_vuln_as_high_unless_configured(workdir: Path) -> None:
    result = run_driver(DependencyAudit(), {"file": "pip-audit.json"}, workdir=workdir)
    assert not result.ok
    assert result.summary == "1 high or worse: jinja2 3.1.3 (high)"
    relaxed = run_driver(
        DependencyAudit(), {"file": "pip-audit.json", "pip_audit_severity": "moderate"}, workdir=workdir
    )
    assert relaxed.ok
    assert relaxed.summary == "no high or worse vulnerabilities (1 below high)"


def test_runs_a_command_that_exits_nonzero_like_npm_audit(workdir: Path) -> None:
    script = "import sys; sys.stdout.write(open('npm-v7.json').read()); sys.exit(1)"
    result = run_driver(DependencyAudit(), {"run": [sys.executable, "-c", script]}, workdir=workdir)
    assert not result.ok
    assert result.summary == "1 high or worse: axios (high)"


def test_clean_command_output_passes(workdir: Path) -> None:
    script = "print('{\"dependencies\": [{\"name\": \"x\", \"version\": \"1\", \"vulns\": []}]}')"
    result = run_driver(DependencyAudit(), {"run": [sys.executable, "-c", script]}, workdir=workdir)
    assert result.ok
    assert result.summary == "no high or worse vulnerabilities"


def test_garbage_and_missing_tool_are_clear_failures(workdir: Path) -> None:
    (workdir / "bad.json").write_text("npm ERR! code ENOLOCK")
    result = run_driver(DependencyAudit(), {"file": "bad.json"}, workdir=workdir)
    assert result.summary.startswith("the audit output is not JSON")
    result = run_driver(DependencyAudit(), {"run": ["no-such-npm", "audit", "--json"]}, workdir=workdir)
    assert result.summary == "audit command failed: command not found: no-such-npm"


def test_exactly_one_source() -> None:
    with pytest.raises(ValidationError, match="give exactly one of run and file"):
        run_driver(DependencyAudit(), {})
