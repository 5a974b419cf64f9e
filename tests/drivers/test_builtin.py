"""The built-ins are found through the installed ``releasegate.drivers`` entry point."""

from __future__ import annotations

import importlib

from releasegate.drivers.api import Options, StepDriver, TargetDriver, load_registry
from releasegate.drivers.builtin import BUILTINS

STEPS = {
    "command", "http-check", "version-check", "smoke", "changelog", "env-present", "git",
    "secret-scan", "dependency-audit", "backup", "backup-verify", "restore", "migrate",
    "maintenance", "confirm",
}


def test_entry_point_registers_every_builtin_step() -> None:
    registry = load_registry()
    assert set(registry.names("step")) >= STEPS
    assert "command" in registry.names("target")


def test_every_builtin_is_a_driver_with_described_options() -> None:
    registry = load_registry()
    for kind, name, module, cls_name in BUILTINS:
        cls = getattr(importlib.import_module(module), cls_name)
        assert registry.get(kind, name) is cls
        driver = registry.step(cls.name) if kind == "step" else registry.target(cls.name)
        assert isinstance(driver, StepDriver | TargetDriver)
        assert issubclass(driver.Options, Options)
        for field_name, field in driver.Options.model_fields.items():
            assert field.description, f"{kind} {cls.name}: option {field_name} has no description"


def test_only_migrate_is_unsafe_to_rerun() -> None:
    registry = load_registry()
    unsafe = {n for n in STEPS if not registry.step(n).safe_to_rerun}
    assert unsafe == {"migrate"}
