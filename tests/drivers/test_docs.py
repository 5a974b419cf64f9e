"""docs/drivers.md documents every built-in driver and every one of its options."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from releasegate.drivers.builtin import BUILTINS

DOCS = Path(__file__).parents[2] / "docs" / "drivers.md"


def _section(text: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"docs/drivers.md has no section '## {heading}'"
    return match.group(1)


def test_every_driver_option_is_documented() -> None:
    text = DOCS.read_text()
    for kind, _name, module, cls_name in BUILTINS:
        cls = getattr(importlib.import_module(module), cls_name)
        section = _section(text, cls.name if kind == "step" else f"{cls.name} target")
        for name, field in cls.Options.model_fields.items():
            key = field.alias or name
            assert f"| `{key}` |" in section, f"{kind} {cls.name}: option {key} is not documented"
        assert "```yaml" in section, f"{kind} {cls.name} has no example"
