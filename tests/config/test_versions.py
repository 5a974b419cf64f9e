"""The version grammar: what a version may be, said in one line naming what is wrong."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from releasegate.config.loader import load_config
from releasegate.config.models import Config
from releasegate.config.versions import check_version
from releasegate.errors import ConfigError

Write = Callable[[str], Path]
DEFAULT = Config.model_validate({"project": "shop", "environments": {}})
RULE = "versions match [0-9A-Za-z][0-9A-Za-z._+-]{0,127}"


@pytest.mark.parametrize("version", ["1.2.0", "v2.0.0-rc.1", "2026.11.30+build.7", "7", "a" * 128])
def test_versions_the_default_grammar_allows(version: str) -> None:
    check_version(DEFAULT, version)


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("1.0$(touch X)", f"version '1.0$(touch X)': '$' is not allowed; {RULE}"),
        ("../../etc", f"version '../../etc': '.' cannot start a version; {RULE}"),
        ("1.0/../x", f"version '1.0/../x': '/' is not allowed; {RULE}"),
        ("", f"version '': a version cannot be empty; {RULE}"),
        ("1.0 beta", f"version '1.0 beta': ' ' is not allowed; {RULE}"),
        ("1.0\n", f"version '1.0\\n': '\\n' is not allowed; {RULE}"),
        ("-rf", f"version '-rf': '-' cannot start a version; {RULE}"),
        ("a" * 129, f"version '{'a' * 56}...': longer than 128 characters; {RULE}"),
        ("9" * 300, f"version '{'9' * 56}...': longer than 255 characters"),
    ],
)
def test_versions_the_default_grammar_refuses_say_why(version: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_version(DEFAULT, version)
    assert str(caught.value) == message


def test_a_project_sets_its_own_pattern(write: Write) -> None:
    config = load_config(write("project: shop\nversions: {pattern: '\\d+\\.\\d+\\.\\d+'}\nenvironments: {}\n"))
    check_version(config, "1.2.3")
    with pytest.raises(ConfigError) as caught:
        check_version(config, "v1.2.3")
    assert str(caught.value) == (
        "version 'v1.2.3': does not match; versions match the project's pattern "
        "'\\\\d+\\\\.\\\\d+\\\\.\\\\d+' (versions.pattern)"
    )
    with pytest.raises(ConfigError) as caught:
        check_version(config, "1.2.3\x00")
    assert str(caught.value) == (
        "version '1.2.3\\x00': '\\x00' is not allowed; versions match the project's pattern "
        "'\\\\d+\\\\.\\\\d+\\\\.\\\\d+' (versions.pattern)"
    )


def test_a_pattern_that_is_no_regular_expression_is_a_located_error(write: Write) -> None:
    path = write("project: shop\nversions:\n  pattern: '[0-9'\nenvironments: {}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path}:3:12: versions.pattern: '[0-9' is not a regular expression: "
        "unterminated character set at position 0"
    )
