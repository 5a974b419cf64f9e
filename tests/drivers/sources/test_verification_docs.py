"""docs/verification.md documents every verification driver, option and stage key."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from releasegate.config.models import MetricSettings, VerifyStage
from releasegate.drivers.api import SourceDriver, StepDriver, load_registry
from releasegate.drivers.builtin import VERIFY_BUILTINS
from releasegate.drivers.sources.probe import ProbeRequest
from releasegate.drivers.sources.prometheus import Query

DOC = Path(__file__).parents[3] / "docs" / "verification.md"


def _section(heading: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"^#{{2,3}} {re.escape(heading)}\n(.*?)(?=^#{{2,3}} |\Z)", text, re.S | re.M)
    assert match, f"docs/verification.md has no section '{heading}'"
    return match.group(1)


def _keys(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


def _documented(section: str) -> set[str]:
    keys: set[str] = set()
    for cell in re.findall(r"^\| ((?:`[^`]+` ?)+)\|", section, re.M):
        keys.update(re.findall(r"`([^`]+)`", cell))
    return keys


@pytest.mark.parametrize(("kind", "name", "module", "cls_name"), VERIFY_BUILTINS)
def test_every_verification_driver_and_option_is_documented(kind: str, name: str, module: str, cls_name: str) -> None:
    cls = getattr(importlib.import_module(module), cls_name)
    section = _section(name)
    missing = sorted(_keys(cls.Options) - _documented(section))
    assert not missing, f"{kind} {name}: options not in docs/verification.md: {missing}"
    assert "```yaml" in section, f"{kind} {name} has no example"


@pytest.mark.parametrize(("model", "heading"), [(ProbeRequest, "probe"), (Query, "prometheus")])
def test_nested_options_are_documented(model: type[BaseModel], heading: str) -> None:
    assert _keys(model) <= _documented(_section(heading))


@pytest.mark.parametrize(
    ("model", "heading"),
    [(VerifyStage, "Stage keys (VerifyStage)"), (MetricSettings, "Per-metric settings (MetricSettings)")],
)
def test_every_stage_key_is_documented_and_nothing_else(model: type[BaseModel], heading: str) -> None:
    assert _documented(_section(heading)) == _keys(model)


def test_the_entry_point_registers_every_source_and_step_with_described_options() -> None:
    registry = load_registry()
    for kind, name, _module, _cls in VERIFY_BUILTINS:
        driver = registry.source(name) if kind == "source" else registry.step(name)
        assert isinstance(driver, SourceDriver if kind == "source" else StepDriver)
        for field_name, field in driver.Options.model_fields.items():
            assert field.description, f"{kind} {name}: option {field_name} has no description"
