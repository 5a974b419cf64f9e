"""``changelog`` and ``env-present``."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from releasegate.drivers.api import Release
from releasegate.drivers.checks.changelog import Changelog
from releasegate.drivers.checks.env_present import EnvPresent
from releasegate.testing import StaticSecrets, run_driver

CHANGELOG = """# Changelog

## [1.3.0] - 2026-11-20
- Payments retry

## 1.2.10
- Fix login
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG)
    return tmp_path


@pytest.mark.parametrize(("version", "line"), [("1.3.0", 3), ("1.2.10", 6)])
def test_changelog_finds_the_heading(project: Path, version: str, line: int) -> None:
    result = run_driver(Changelog(), {}, workdir=project, release=Release("p", version))
    assert result.ok
    assert result.summary == f"CHANGELOG.md:{line} has an entry for {version}"


def test_changelog_does_not_take_a_prefix_for_the_version(project: Path) -> None:
    result = run_driver(Changelog(), {}, workdir=project, release=Release("p", "1.2.1"))
    assert not result.ok
    assert result.summary == "CHANGELOG.md has no entry for 1.2.1"


def test_changelog_missing_file(tmp_path: Path) -> None:
    result = run_driver(Changelog(), {"file": "docs/CHANGES.md"}, workdir=tmp_path)
    assert not result.ok
    assert result.summary == "docs/CHANGES.md does not exist"


def test_changelog_custom_pattern(project: Path) -> None:
    (project / "NEWS").write_text("Release 2.0.0 (stable)\n")
    result = run_driver(
        Changelog(), {"file": "NEWS", "pattern": "^Release {version} "}, workdir=project, release=Release("p", "2.0.0")
    )
    assert result.ok


def test_changelog_pattern_without_version_is_rejected() -> None:
    with pytest.raises(ValidationError, match="pattern must contain"):
        run_driver(Changelog(), {"pattern": "^## "})


def test_env_present_reports_missing_names_without_values(tmp_path: Path) -> None:
    secrets = StaticSecrets({"STRIPE_KEY": "sk_live_abc", "EMPTY": ""})
    result = run_driver(
        EnvPresent(),
        {"names": ["APP_MODE", "${env:STRIPE_KEY}", "${env:SENTRY_DSN}", "${env:EMPTY}", "NOT_SET_XYZ"]},
        env={"APP_MODE": "production"},
        secrets=secrets,
        workdir=tmp_path,
    )
    assert not result.ok
    assert result.summary == "missing: ${env:SENTRY_DSN}, NOT_SET_XYZ; empty: ${env:EMPTY}"
    assert "sk_live_abc" not in str(result)
    assert result.evidence["present"] == ["APP_MODE", "${env:STRIPE_KEY}"]


def test_env_present_passes_when_all_set(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("secret\n")
    result = run_driver(
        EnvPresent(), {"names": ["HOME_X", f"${{file:{tmp_path / 'key'}}}"]}, env={"HOME_X": "1"}
    )
    assert result.ok
    assert result.summary == "all 2 present"


def test_env_present_rejects_garbage_names() -> None:
    with pytest.raises(ValidationError, match="is neither a variable name nor a secret reference"):
        run_driver(EnvPresent(), {"names": ["not a name"]})
