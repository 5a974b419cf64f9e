"""``secret-scan`` with the real detect-secrets over real trees."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from releasegate.drivers.checks.secret_scan import SecretScan
from releasegate.testing import run_driver

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"


def _tree(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def main():\n    return 1\n")
    (root / "src" / "settings.py").write_text(f"DEBUG = False\naws_key = '{AWS_KEY}'\n")
    return root


def test_finds_secret_and_reports_file_line_type_only(tmp_path: Path) -> None:
    result = run_driver(SecretScan(), {}, workdir=_tree(tmp_path))
    assert not result.ok
    assert result.summary == "1 potential secret: src/settings.py:2: AWS Access Key"
    assert AWS_KEY not in str(result)


def test_clean_tree_passes(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("nothing to see\n")
    result = run_driver(SecretScan(), {}, workdir=tmp_path)
    assert result.ok
    assert result.summary == "no secrets found in 1 files"


def test_baseline_allows_known_findings(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    made = subprocess.run(
        ["detect-secrets", "scan", "--all-files"], cwd=root, capture_output=True, text=True, check=False,
        env={"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"},
    )
    assert made.returncode == 0, made.stderr
    (root / ".secrets.baseline").write_text(made.stdout)
    assert "src/settings.py" in json.loads(made.stdout)["results"]
    result = run_driver(SecretScan(), {"baseline": ".secrets.baseline"}, workdir=root)
    assert result.ok, result.summary
    assert result.evidence["allowed_by_baseline"] == 1
    # A new secret is not covered by the baseline.
    (root / "src" / "app.py").write_text("token = 'AKIAJSIE27KKMHXI3BJQ'\n")
    result = run_driver(SecretScan(), {"baseline": ".secrets.baseline"}, workdir=root)
    assert not result.ok
    assert result.summary == "1 potential secret: src/app.py:1: AWS Access Key"


def test_only_files_git_tracks_or_could_track(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text("src/settings.py\n")
    result = run_driver(SecretScan(), {}, workdir=root)
    assert result.ok, result.summary


def test_exclude_patterns_and_bad_baseline(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    assert run_driver(SecretScan(), {"exclude": ["src/settings.py"]}, workdir=root).ok
    (root / "bad.baseline").write_text("{not json")
    result = run_driver(SecretScan(), {"baseline": "bad.baseline"}, workdir=root)
    assert not result.ok
    assert result.summary == "bad.baseline is not a readable detect-secrets baseline"
