"""docs/configuration.md and docs/cli.md document every config key and every command.

The models and the Typer app are walked, so a new key, model, command or option fails here
until it is documented, and a documented one that no longer exists fails too.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
import typer
from pydantic import BaseModel, TypeAdapter, ValidationError
from ruamel.yaml import YAML

from releasegate.cli.exit_codes import Exit
from releasegate.cli.main import app
from releasegate.config.loader import load_config
from releasegate.config.models import Config

ROOT = Path(__file__).parents[1]
CONFIG_DOC = ROOT / "docs" / "configuration.md"
CLI_DOC = ROOT / "docs" / "cli.md"
EXAMPLE = ROOT / "examples" / "camarketplace"

_HEADING = re.compile(r"^(#{2,4}) (.+)$", re.M)
_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|(.*)$", re.M)


def _sections(text: str) -> list[tuple[str, str]]:
    """``(heading, body)`` for every ``##``–``####`` heading; a body ends at the next heading."""
    marks = list(_HEADING.finditer(text))
    return [
        (m.group(2).strip(), text[m.end() : marks[i + 1].start() if i + 1 < len(marks) else None])
        for i, m in enumerate(marks)
    ]


# -- configuration.md ---------------------------------------------------------------------


def _models(tp: object, seen: dict[str, type[BaseModel]]) -> dict[str, type[BaseModel]]:
    """Every model reachable from ``tp`` through its fields' annotations, by class name."""
    if get_origin(tp) is Annotated:
        return _models(get_args(tp)[0], seen)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if tp.__name__ not in seen:
            seen[tp.__name__] = tp
            for field in tp.model_fields.values():
                _models(field.annotation, seen)
        return seen
    if get_origin(tp) in (Union, types.UnionType, list, dict, tuple):
        for arg in get_args(tp):
            _models(arg, seen)
    return seen


MODELS = _models(Config, {})


def _model_sections() -> dict[str, str]:
    """Model name → its section, from headings ending in ``(ModelName)``."""
    found: dict[str, str] = {}
    for heading, body in _sections(CONFIG_DOC.read_text(encoding="utf-8")):
        match = re.search(r"\((\w+)\)$", heading)
        if match:
            assert match.group(1) not in found, f"two sections for {match.group(1)}"
            found[match.group(1)] = body
    return found


def _rows(body: str) -> dict[str, list[str]]:
    """Table rows of a section: first cell (a code span) → the other cells."""
    return {m.group(1): [c.strip() for c in m.group(2).split("|")] for m in _ROW.finditer(body)}


def test_the_walk_finds_every_model() -> None:
    # a broken walk would make the tests below pass on nothing
    assert {"Config", "Environment", "Step", "Window", "DateRange", "MatrixRow"} <= set(MODELS)
    assert len(MODELS) >= 21


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_config_key_is_documented(name: str) -> None:
    sections = _model_sections()
    assert name in sections, f"docs/configuration.md has no section headed '... ({name})'"
    rows = _rows(sections[name])
    model = MODELS[name]
    keys = {field.alias or attr: field for attr, field in model.model_fields.items()}
    missing = sorted(set(keys) - set(rows))
    assert not missing, f"{name}: keys not documented in docs/configuration.md: {missing}"
    stale = sorted(set(rows) - set(keys))
    assert not stale, f"{name}: docs/configuration.md documents keys that do not exist: {stale}"
    for key, field in keys.items():
        _check_default(name, key, field, rows[key])


def _check_default(model: str, key: str, field: Any, cells: list[str]) -> None:
    """The default column: *required*, — (unset), or a YAML value equal to the real default."""
    assert len(cells) >= 3, f"{model}.{key}: the row needs type, default and meaning"
    default = cells[1]
    where = f"{model}.{key}: documented default {default!r}"
    if field.is_required():
        assert default == "*required*", f"{where}, but the key is required"
        return
    assert default != "*required*", f"{where}, but the key is optional"
    actual = field.get_default(call_default_factory=True)
    if default.startswith("—"):
        assert actual is None, f"{where}, but the default is {actual!r}"
        return
    code = re.fullmatch(r"`([^`]*)`", default)
    if code is None:  # prose such as "the defaults below": not machine-checked
        return
    written = YAML(typ="safe", pure=True).load(code.group(1))
    annotation: Any = field.annotation
    if field.metadata:  # Duration, StrList: their validators live in the metadata
        annotation = Annotated[(annotation, *field.metadata)]
    adapter: TypeAdapter[Any] = TypeAdapter(annotation)
    try:
        parsed = adapter.validate_python(written)
    except ValidationError as exc:
        raise AssertionError(f"{where} is not a valid value: {exc.errors()[0]['msg']}") from None
    real = adapter.dump_python(actual, mode="json")
    assert parsed == actual, f"{where}, but the default is {real!r}"


def test_the_worked_example_is_a_valid_config(tmp_path: Path) -> None:
    text = CONFIG_DOC.read_text(encoding="utf-8")
    block = re.search(r"^```yaml\n(.*?)^```", text, re.S | re.M)
    assert block, "docs/configuration.md has no YAML example"
    path = tmp_path / "releasegate.yaml"
    path.write_text(block.group(1), encoding="utf-8")
    config = load_config(path)
    assert len(config.environments) == 2


def test_the_example_readme_names_every_secret_the_example_config_uses() -> None:
    config = (EXAMPLE / "releasegate.yaml").read_text(encoding="utf-8")
    readme = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    names = set(re.findall(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}", config))
    assert names, "the example config uses no secret references"
    missing = sorted(n for n in names if f"`{n}`" not in readme)
    assert not missing, f"examples/camarketplace/README.md does not name {missing}"


# -- cli.md -----------------------------------------------------------------------------


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command and group, by path. Duck-typed: Typer may ship its own copy of click."""
    yield path, command
    for name, sub in (getattr(command, "commands", None) or {}).items():
        yield from _commands(sub, (*path, name))


COMMANDS = {" ".join(("releasegate", *p)): c for p, c in _commands(typer.main.get_command(app))}


def _command_sections() -> dict[str, str]:
    """``releasegate freeze add`` → its section, from headings whose first code span is it."""
    found: dict[str, str] = {}
    for heading, body in _sections(CLI_DOC.read_text(encoding="utf-8")):
        match = re.match(r"`(releasegate[^`]*)`", heading)
        if match:
            assert match.group(1) not in found, f"two sections for {match.group(1)}"
            found[match.group(1)] = body
    return found


def _mentions(body: str, word: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", body) is not None


def test_the_walk_finds_every_command() -> None:
    assert {"releasegate", "releasegate deploy", "releasegate freeze add"} <= set(COMMANDS)
    assert len(COMMANDS) >= 30


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_every_command_and_option_is_documented(path: str) -> None:
    sections = _command_sections()
    assert path in sections, f"docs/cli.md has no section headed '`{path}`'"
    body = sections[path]
    command = COMMANDS[path]
    for param in command.params:
        if param.param_type_name == "option":
            for opt in (*param.opts, *param.secondary_opts):
                assert _mentions(body, opt), f"{path}: option {opt} is not in its section"
        elif param.param_type_name == "argument" and param.name:
            name = param.name.upper()
            assert _mentions(body, name), f"{path}: argument {name} is not in its section"


def test_every_documented_command_exists() -> None:
    stale = sorted(set(_command_sections()) - set(COMMANDS))
    assert not stale, f"docs/cli.md documents commands that do not exist: {stale}"


def test_every_exit_code_is_documented() -> None:
    text = CLI_DOC.read_text(encoding="utf-8")
    for code in Exit:
        row = re.search(rf"^\| {int(code)} \|", text, re.M)
        assert row, f"docs/cli.md: exit code {int(code)} is not in the exit-code table"
