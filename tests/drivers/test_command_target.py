"""The ``command`` target: deploy, roll back and report the current version."""

from __future__ import annotations

import asyncio
from pathlib import Path

from releasegate.drivers.api import Release
from releasegate.drivers.targets.command import CommandTarget
from releasegate.testing import make_context, run_driver

OPTIONS = {
    "deploy": ["sh", "-c", "echo {version} > live.txt; echo deploying {version} to {environment}"],
    "current": ["cat", "live.txt"],
}


def test_deploy_rollback_and_current(tmp_path: Path) -> None:
    release = Release("staging", "2.0.0", previous_version="1.9.0")
    deployed = run_driver(CommandTarget(), OPTIONS, workdir=tmp_path, release=release)
    assert deployed.ok
    assert deployed.summary == "deployed 2.0.0"
    assert "deploying 2.0.0 to staging" in deployed.output
    rolled = run_driver(
        CommandTarget(), OPTIONS, action="rollback", to_version="1.9.0", workdir=tmp_path, release=release
    )
    assert rolled.summary == "rolled back to 1.9.0"
    target = CommandTarget()
    ctx = make_context(workdir=tmp_path, release=release)
    assert asyncio.run(target.current(target.Options.model_validate(OPTIONS), ctx)) == "1.9.0"


def test_failed_deploy_and_unknown_current(tmp_path: Path) -> None:
    options = {"deploy": ["sh", "-c", "exit 4"], "current": ["cat", "nothing.txt"]}
    result = run_driver(CommandTarget(), options, workdir=tmp_path)
    assert not result.ok
    assert result.summary == "deploy of 1.0.0 failed: exited with status 4"
    target = CommandTarget()
    parsed = target.Options.model_validate(options)
    assert asyncio.run(target.current(parsed, make_context(workdir=tmp_path))) is None


def test_a_version_in_a_shell_command_is_one_quoted_word_never_code(tmp_path: Path) -> None:
    options = {"deploy": "printf '%s|' {version} > seen.txt", "shell": True}
    hostile = "1.0$(touch INJECTED); touch ALSO"
    result = run_driver(CommandTarget(), options, workdir=tmp_path, release=Release("staging", hostile))
    assert result.ok
    assert (tmp_path / "seen.txt").read_text() == hostile + "|"
    assert not (tmp_path / "INJECTED").exists()
    assert not (tmp_path / "ALSO").exists()


def test_a_plain_version_in_a_shell_command_is_left_as_written(tmp_path: Path) -> None:
    options = {"deploy": "echo deploying {version} to {environment}", "shell": True}
    result = run_driver(CommandTarget(), options, workdir=tmp_path, release=Release("staging", "2.0.0+b.7"))
    assert "deploying 2.0.0+b.7 to staging" in result.output
