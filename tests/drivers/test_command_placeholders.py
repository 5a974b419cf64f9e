"""``{version}``, ``{previous_version}``, ``{environment}``, ``{deployment_id}`` in commands:
replaced when run, ``{{name}}`` literal, other braces untouched, an unknown name a config
error with its file and line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from releasegate.config.loader import load_config
from releasegate.drivers.api import Release, load_registry
from releasegate.drivers.checks.command import CommandStep
from releasegate.drivers.targets.command import CommandTarget
from releasegate.errors import ConfigError
from releasegate.testing import run_driver

RELEASE = Release(environment="staging", version="1.4.0", previous_version="1.3.2")
PRINT_ARGS = [sys.executable, "-c", "import sys; print('|'.join(sys.argv[1:]))"]


def test_a_command_steps_arguments_get_the_release(tmp_path: Path) -> None:
    args = ["{version}", "{previous_version}", "{environment}", "{deployment_id}",
            "v{version}.tar", "{{version}}", "{'a': 1}", "{print $1}", "{{.State}}", "$${HOME}"]
    result = run_driver(CommandStep(), {"run": [*PRINT_ARGS, *args]}, release=RELEASE, workdir=tmp_path)
    assert result.ok, result.summary
    # (the test's secrets resolve nothing: ``$${`` is left for the real resolver)
    assert result.output.strip() == (
        "1.4.0|1.3.2|staging|1|v1.4.0.tar|{version}|{'a': 1}|{print $1}|{{.State}}|$${HOME}"
    )


def test_in_a_shell_string_each_value_is_one_quoted_word(tmp_path: Path) -> None:
    result = run_driver(
        CommandStep(),
        {"run": "printf '%s\\n' {environment} {version}", "shell": True},
        release=Release(environment="a b", version="1.0.0"),
        workdir=tmp_path,
    )
    assert result.output.splitlines() == ["a b", "1.0.0"]


def test_the_command_target_gets_the_versions_on_both_sides(tmp_path: Path) -> None:
    options = {"deploy": [*PRINT_ARGS, "{version}", "{previous_version}", "{deployment_id}"]}
    deployed = run_driver(CommandTarget(), options, action="deploy", release=RELEASE, workdir=tmp_path)
    assert deployed.output.strip() == "1.4.0|1.3.2|1"
    back = run_driver(
        CommandTarget(), options, action="rollback", to_version="1.3.2", release=RELEASE,
        workdir=tmp_path,
    )
    assert back.output.strip() == "1.3.2|1.4.0|1"


CONFIG = """\
project: t
environments:
  staging:
    deploy:
      - id: tag
        uses: command
        with:
          run: [./tag.sh, "{verison}", "{{version}}", "{environment}"]
    target:
      uses: command
      with:
        deploy: [./deploy.sh, "{version}", "{env}"]
"""


def test_an_unknown_placeholder_is_a_config_error_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "releasegate.yaml"
    path.write_text(CONFIG)
    with pytest.raises(ConfigError) as caught:
        load_config(path, catalog=load_registry())
    text = str(caught.value)
    assert f"{path}:8:" in text
    assert "unknown placeholder {verison}" in text
    assert "{env}" in text
    assert f"{path}:12:" in text


EVERY_PROBLEM = """\
project: t
environments:
  staging:
    deploy:
      - id: tag
        uses: command
        timeout: forever
        with:
          run: [./tag.sh, "{verison}"]
          bogus: 1
      - id: shelled
        uses: command
        with: {run: "./x.sh", success_codes: none}
      - id: release
        uses: target
    target:
      uses: local
      with: {app: ".", asgi: "a:app", wsgi: "w:app", port: 0}
"""


def test_validate_reports_every_problem_of_a_step(tmp_path: Path) -> None:
    path = tmp_path / "releasegate.yaml"
    path.write_text(EVERY_PROBLEM)
    with pytest.raises(ConfigError) as caught:
        load_config(path, catalog=load_registry())
    lines = str(caught.value).splitlines()
    expected = [
        (7, "'forever' is not a duration"),
        (9, "unknown placeholder {verison}"),
        (10, "unknown key 'bogus'"),
        (13, "run is a string"),
        (13, "success_codes"),
        (18, "not asgi and wsgi"),
        (18, "port"),
    ]
    for line, words in expected:
        assert any(f"{path}:{line}:" in ln and words in ln for ln in lines), (line, words, lines)
