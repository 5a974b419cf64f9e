"""Step `if:` conditions: what they allow, what they refuse, what they evaluate to."""

from __future__ import annotations

import pytest

from releasegate.config.expressions import compile_condition
from releasegate.drivers.api import Release

MAJOR = Release(
    environment="production",
    version="2.10.0",
    kind="major",
    changed_paths=("src/app/models.py", "migrations/0042_add_index.py"),
    flags={"new_checkout": True, "emergency": False},
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kind == 'major'", True),
        ("kind != 'major'", False),
        ("kind in ('major', 'hotfix') and environment == 'production'", True),
        ("kind in ['normal']", False),
        ("not emergency", True),
        ("flags.new_checkout", True),
        ("flags.never_set", False),
        ("changed('migrations/*')", True),
        ("changed('docs/*') or changed('*.sql')", False),
        ("version >= '2.9'", True),  # 2.10 is after 2.9, though not as text
        ("version < '2.10.1'", True),
        ("'1' < version < '3'", True),
        ("version == 2", False),  # different types are never equal
        ("version > 2", True),  # ordering with version compares version numbers
        ("kind < 2", False),  # other values of different types never order
        ("true and not false", True),
    ],
)
def test_conditions_evaluate_against_the_release(text: str, expected: bool) -> None:
    assert compile_condition(text).evaluate(MAJOR) is expected


def test_the_emergency_flag_is_seen() -> None:
    hotfix = Release(
        environment="production", version="2.10.1", kind="hotfix", flags={"emergency": True}
    )
    assert compile_condition("emergency and kind == 'hotfix'").evaluate(hotfix) is True


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("kind ==", "'kind ==' is not a valid expression (invalid syntax)"),
        (
            "__import__('os').system('id')",
            "the only call allowed is changed('glob') with one quoted pattern",
        ),
        ("changed(kind)", "the only call allowed is changed('glob') with one quoted pattern"),
        ("release.version == '1'", "only flags.NAME may use a dot"),
        (
            "kindd == 'major'",
            "unknown name 'kindd' (did you mean 'kind'?) (known: kind, version, environment, emergency, flags, changed)",
        ),
        (
            "kind == 'majr'",
            "'majr' is not a release kind (did you mean 'major'?) (kinds: normal, major, hotfix, rollback)",
        ),
        (
            "kind is 'major'",
            "the operator Is is not allowed (use ==, !=, <, <=, >, >=, in, not in)",
        ),
        ("version + '1'", "\"version + '1'\" is not allowed in a condition"),
        ("[x for x in 'ab']", "\"[x for x in 'ab']\" is not allowed in a condition"),
        ("kind in (version,)", "lists may hold only literals, e.g. ('major', 'hotfix')"),
        ("None", "the literal None is not allowed"),
        ("x" * 1001, "the expression is longer than 1000 characters"),
        (
            "kind == 'a\0'",
            "\"kind == 'a\\x00'\" is not a valid expression (source code string cannot contain null bytes)",
        ),
    ],
)
def test_anything_outside_the_whitelist_is_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=r".") as caught:
        compile_condition(text)
    assert str(caught.value) == reason
