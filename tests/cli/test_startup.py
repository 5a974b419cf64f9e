"""What a command loads and builds before it runs: only the command it names (cli/main.py),
no ORM and no pydantic adapters for the read commands; the same help, errors and exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from releasegate.cli.main import app, app_for


def _then(last_lines: str) -> str:
    """A script that runs ``releasegate`` with its arguments, then ``last_lines``
    (``code``: the exit code)."""
    return (
        "import runpy, sys\n"
        "sys.argv = ['releasegate', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('releasegate', run_name='__main__')\n"
        "except SystemExit as exc:\n    code = exc.code\n" + last_lines
    )


def test_the_read_commands_and_a_deploy_load_neither_typer_adapters_nor_the_orm(tmp_path: Path) -> None:
    (tmp_path / "releasegate.yaml").write_text("project: t\nenvironments:\n  staging: {}\n")
    script = _then(
        "loaded = [m for m in ('typer._adapters', 'sqlalchemy.orm') if m in sys.modules]\n"
        "print('LOADED', code, loaded)\n"
    )
    env = {**os.environ, "RELEASEGATE_USER": "dora"}
    first = subprocess.run(  # creates and migrates the store (Alembic: the ORM, once)
        [sys.executable, "-m", "releasegate", "deploy", "staging", "0.9", "--yes"], cwd=tmp_path,
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert first.returncode == 0, first.stderr
    for argv in (
        ["deploy", "staging", "1.0", "--yes"], ["history"], ["show", "1"],
        ["policy", "explain", "staging"], ["history", "--limit", "5"],
    ):
        done = subprocess.run(
            [sys.executable, "-c", script, *argv], cwd=tmp_path, capture_output=True, text=True,
            timeout=120, env=env,
        )
        last = done.stdout.strip().splitlines()[-1]
        assert last == "LOADED 0 []", (argv, done.stdout, done.stderr)


def test_piped_history_and_show_print_plain_text_without_loading_rich(tmp_path: Path) -> None:
    (tmp_path / "releasegate.yaml").write_text("project: t\nenvironments:\n  staging: {}\n")
    script = _then(
        "print('RICH', [m for m in sys.modules if m.startswith('rich.') and m != 'rich._extension'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    env["RELEASEGATE_USER"] = "dora"

    def rg(*argv: str, extra: dict[str, str] | None = None) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", script, *argv], cwd=tmp_path, capture_output=True, text=True,
            timeout=120, env={**env, **(extra or {})},
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    rg("deploy", "staging", "1.0", "--yes")
    *rows, loaded = rg("history")
    assert loaded == "RICH []"
    assert rows[0].split("\t")[:5] == ["1", "staging", "1.0", "normal", "succeeded"]
    *shown, loaded = rg("show", "1")
    assert loaded == "RICH []"
    *markdown, _ = rg("show", "1", "--format", "md")
    assert shown == markdown  # a pipe gets the markdown itself
    assert shown[0].startswith("# Deployment 1: 1.0 to staging")
    # where Rich would see a terminal, the table and the rendered markdown are drawn
    *drawn, loaded = rg("show", "1", extra={"TTY_COMPATIBLE": "1"})
    assert "rich.markdown" in loaded
    assert drawn != markdown
    assert not drawn[0].startswith("#")
    *table, loaded = rg("history", extra={"FORCE_COLOR": "1"})
    assert "rich.table" in loaded
    assert "\t" not in "".join(table)


@pytest.mark.parametrize(
    "argv",
    [
        ["history", "--help"], ["--as", "bob", "show", "--help"], ["policy", "--help"],
        ["policy", "explain", "--help"], ["-c", "x.yaml", "deploy", "--help"],
        ["show", "seven"], ["show"], ["history", "--limit", "many"], ["histroy"], ["--help"],
        [], ["policy", "explian"], ["--json", "show", "x"],
    ],
)
def test_only_the_named_command_is_built_and_it_answers_as_the_whole_app(argv: list[str]) -> None:
    runner = CliRunner()
    whole = runner.invoke(app, argv, prog_name="releasegate")
    only = runner.invoke(app_for(argv), argv, prog_name="releasegate")
    assert (only.exit_code, only.output) == (whole.exit_code, whole.output)


def test_a_command_is_picked_after_the_global_options() -> None:
    assert [c.callback.__name__ for c in app_for(["--as", "bob", "-c", "x.yaml", "history"]).registered_commands] == ["history"]
    assert [g.name for g in app_for(["--db=sqlite:///x.db", "--json", "policy", "explain"]).registered_groups] == ["policy"]
    assert app_for(["--help"]) is app
    assert app_for(["nosuch"]) is app
