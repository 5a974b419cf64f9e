"""Reading the file: a valid config loads; unreadable, malformed or odd YAML is one clear error."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from releasegate.config.loader import load_config
from releasegate.drivers.api import Registry, load_registry
from releasegate.errors import ConfigError

Write = Callable[[str], Path]
VALID = Path(__file__).parent / "data" / "valid.yaml"


def problems(path: Path, registry: Registry) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, catalog=registry)
    return [str(p) for p in caught.value.problems]


def test_the_example_config_loads_with_its_values(registry: Registry) -> None:
    config = load_config(VALID, catalog=registry)
    assert config.project == "ca-marketplace"
    assert list(config.environments) == ["staging", "production"]
    production = config.environments["production"]
    assert [s.id for s in production.deploy] == ["migrate", "release", "health"]
    release = production.deploy[1]  # merged from the x-defaults anchor
    assert (release.retries, release.retry_delay, release.timeout) == (
        2,
        timedelta(seconds=5),
        timedelta(minutes=2),
    )
    assert production.deploy[2].needs == ["release"]  # a single string stands for a list
    assert production.gates[1].with_ == {"run": ["check-env", "${env:DATABASE_URL}"]}  # unresolved
    assert config.calendars["launch"].dates[0] == date(2025, 12, 25)
    assert config.notify[0].on == ["deployment.started", "rollback.*"]  # `on` is a key, not true


def test_a_missing_file_says_how_to_create_one(tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "releasegate.yaml"
    assert problems(path, registry) == [
        f"{path}: no config file here (create one with 'releasegate init')"
    ]


def test_a_directory_is_not_a_config(tmp_path: Path, registry: Registry) -> None:
    assert problems(tmp_path, registry) == [f"{tmp_path}: is a directory, not a config file"]


def test_a_file_that_is_not_utf8_names_the_position(tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "releasegate.yaml"
    path.write_bytes(b"project: shop\nenvironments: {caf\xe9: {}}\n")
    assert problems(path, registry) == [f"{path}:2:19: is not UTF-8 text"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "project: [shop\nenvironments: {}\n",
            "2:13: invalid YAML: while parsing a flow sequence expected ',' or ']', but got ':'",
        ),
        (
            "project: shop\n  environments: {}\n",
            "2:15: invalid YAML: mapping values are not allowed here",
        ),
        ("project: *shop\n", "1:10: invalid YAML: found undefined alias 'shop'"),
        (
            "a: 1\n---\nb: 2\n",
            "2:1: invalid YAML: expected a single document in the stream but found another document",
        ),
        ("project: \x07\n", "1:10: invalid YAML: special characters are not allowed"),
    ],
)
def test_malformed_yaml_gives_the_parsers_position(
    write: Write, registry: Registry, text: str, message: str
) -> None:
    path = write(text)
    assert problems(path, registry) == [f"{path}:{message}"]


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("", "empty"),
        ("# only a comment\n", "empty"),
        ("- a\n- b\n", "a list"),
        ("just words\n", "a single value ('just words')"),
    ],
)
def test_the_top_level_must_be_a_mapping(
    write: Write, registry: Registry, text: str, what: str
) -> None:
    path = write(text)
    assert problems(path, registry) == [
        f"{path}:1:1: the top level must be a mapping with 'project' and 'environments', but the file is {what}"
    ]


def test_duplicate_keys_unknown_tags_and_recursive_aliases(
    write: Write, registry: Registry
) -> None:
    path = write(
        "project: shop\n"
        "project: store\n"
        "checklist: !include other.md\n"
        "users: &u {ann: {roles: [*u]}}\n"
        "environments: {}\n"
    )
    assert problems(path, registry) == [
        f"{path}:2:1: duplicate key 'project' (first written at line 1)",
        f"{path}:3:12: checklist: the YAML tag '!include' is not supported here",
        f"{path}:4:8: users.ann.roles[0]: an alias refers to a value that contains it",
    ]


def test_a_config_with_a_byte_order_mark_and_crlf_lines_loads(
    tmp_path: Path, registry: Registry
) -> None:
    path = tmp_path / "releasegate.yaml"
    path.write_bytes(b"\xef\xbb\xbfproject: shop\r\nenvironments:\r\n  staging: {}\r\n")
    assert list(load_config(path, catalog=registry).environments) == ["staging"]


def test_without_a_catalog_drivers_are_not_checked_but_everything_else_is(
    tmp_path: Path,
) -> None:
    path = tmp_path / "releasegate.yaml"
    shutil.copy(VALID, path)
    path.write_text(path.read_text().replace("uses: command", "uses: no-such-driver"))
    config = load_config(path)
    assert config.environments["staging"].gates[0].uses == "no-such-driver"
    path.write_text(path.read_text().replace("needs: release", "needs: relase"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "'relase' is no step of environment 'production' (did you mean 'release'?)" in str(
        caught.value
    )


def test_the_installed_drivers_are_a_catalog(tmp_path: Path) -> None:
    path = tmp_path / "releasegate.yaml"
    shutil.copy(VALID, path)
    path.write_text(path.read_text().replace("uses: command", "uses: no-such-driver"))
    found = problems(path, load_registry())
    assert any("unknown step driver 'no-such-driver'" in p for p in found)
