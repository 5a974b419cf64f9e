"""Typer's values coerced without pydantic (cli/coercion.py): the same values, messages and
exit codes as Typer's own adapters."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pytest
import typer
import typer.core
from typer.testing import CliRunner

from releasegate.cli import coercion
from releasegate.cli.main import app as releasegate_app


def _probe() -> typer.Typer:
    app = typer.Typer(add_completion=False)

    @app.command()
    def probe(
        id: Annotated[int, typer.Argument()],
        name: Annotated[str | None, typer.Option("--name")] = None,
        limit: Annotated[int, typer.Option("--limit")] = 20,
        flag: Annotated[list[str] | None, typer.Option("--flag")] = None,
        path: Annotated[Path | None, typer.Option("--path")] = None,
        yes: Annotated[bool, typer.Option("--yes")] = False,
    ) -> None:
        print(repr((id, name, limit, flag, path, yes)))

    return app


ARGVS = [
    ["7"], ["0"], ["123456789012345678"], ["1234567890123456789012"], ["007"], ["-3"],
    [" 5"], ["1_000"], ["x"], ["١٢"], ["3.0"], [""],
    ["1", "--name", "dora"], ["1", "--name", ""], ["1", "--name", "é ü\t"],
    ["1", "--limit", "5"], ["1", "--limit", "05"], ["1", "--limit", "ten"],
    ["1", "--flag", "a", "--flag", "b=c"], ["1", "--flag", ""],
    ["1", "--path", "some/where"], ["1", "--yes"], [],
]


@pytest.mark.parametrize("argv", ARGVS, ids=[" ".join(a) or "none" for a in ARGVS])
def test_same_values_and_messages_as_typer(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert coercion.install()
    runner = CliRunner()
    fast = runner.invoke(_probe(), argv)
    original = coercion.typer_build()
    assert original is not None
    assert typer.core.build_runtime_param is not original
    monkeypatch.setattr(typer.core, "build_runtime_param", original)
    slow = runner.invoke(_probe(), argv)
    assert (fast.exit_code, fast.output) == (slow.exit_code, slow.output)


def test_a_bad_id_is_refused_as_typer_refuses_it(tmp_path: Path) -> None:
    done = CliRunner().invoke(releasegate_app, ["show", "seven"])
    assert done.exit_code == 2
    assert "Invalid value for 'id': Input should be a valid integer" in done.output
