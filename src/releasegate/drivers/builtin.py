"""Registers the built-in drivers (the ``builtin`` entry point of ``releasegate.drivers``).

Modules are imported only when the registry is built, never at import time of releasegate.
"""

from __future__ import annotations

import importlib

from releasegate.drivers.api import DriverKind, Registry

_CHECKS = "releasegate.drivers.checks"

# (kind, module, class) — one driver per module.
BUILTINS: tuple[tuple[DriverKind, str, str], ...] = (
    ("step", f"{_CHECKS}.command", "CommandStep"),
    ("step", f"{_CHECKS}.http_check", "HttpCheck"),
    ("step", f"{_CHECKS}.version_check", "VersionCheck"),
    ("step", f"{_CHECKS}.smoke", "Smoke"),
    ("step", f"{_CHECKS}.changelog", "Changelog"),
    ("step", f"{_CHECKS}.env_present", "EnvPresent"),
    ("step", f"{_CHECKS}.git", "Git"),
    ("step", f"{_CHECKS}.secret_scan", "SecretScan"),
    ("step", f"{_CHECKS}.dependency_audit", "DependencyAudit"),
    ("step", f"{_CHECKS}.backup", "Backup"),
    ("step", f"{_CHECKS}.backup_verify", "BackupVerify"),
    ("step", f"{_CHECKS}.restore", "Restore"),
    ("step", f"{_CHECKS}.migrate", "Migrate"),
    ("step", f"{_CHECKS}.maintenance", "Maintenance"),
    ("step", f"{_CHECKS}.confirm", "Confirm"),
    ("target", "releasegate.drivers.targets.command", "CommandTarget"),
)


def register(registry: Registry) -> None:
    """Add every built-in driver to ``registry``."""
    for kind, module, cls_name in BUILTINS:
        cls = getattr(importlib.import_module(module), cls_name)
        registry.register(kind, cls)
