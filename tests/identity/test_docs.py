"""docs/policy.md's "Who may do what" says what the code does."""

from __future__ import annotations

import re
from pathlib import Path

from ruamel.yaml import YAML

from releasegate.config.identity_check import ANYONE_LISTED
from releasegate.identity import ACTIONS, describe_permissions

from .helpers import make_config

POLICY_DOC = Path(__file__).parents[2] / "docs" / "policy.md"


def section(heading: str = "## Who may do what") -> str:
    """From ``heading`` to the next heading of the same level or above."""
    text = POLICY_DOC.read_text(encoding="utf-8")
    start = text.index(heading)
    ends = [text.find(f"\n{'#' * n} ", start + 1) for n in range(2, heading.count("#") + 1)]
    return text[start : min((e for e in ends if e > 0), default=len(text))]


def test_the_defaults_table_is_the_code_defaults() -> None:
    table = section("### The defaults, and `permissions:`")
    rows = re.findall(r"^\| `([a-z.-]+)` \| .* \| (.+) \|$", table, re.M)
    documented = {}
    for action, who in rows:
        if who.startswith("anyone listed"):
            documented[action] = [ANYONE_LISTED]
        elif who.startswith("`overrides.roles`"):
            documented[action] = ["admin"]
        else:
            documented[action] = re.findall(r"`([^`]+)`", who)
    assert documented == dict(describe_permissions(make_config()))
    assert set(documented) == set(ACTIONS)


def test_the_permissions_example_is_a_valid_config() -> None:
    block = re.search(r"```yaml\n(users:.*?)```", section(), re.S)
    assert block
    data = YAML(typ="safe", pure=True).load(block.group(1))
    config = make_config(users=data["users"], permissions=data["permissions"])
    assert set(config.permissions) <= set(ACTIONS)
    assert dict(describe_permissions(config))["token.create"] == []
