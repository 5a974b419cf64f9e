"""Registers the built-in drivers (the ``builtin`` entry point of ``releasegate.drivers``).

Modules are imported only when the registry is built, never at import time of releasegate.
"""

from __future__ import annotations

import importlib

from releasegate.drivers.api import DriverKind, Registry

# (kind, module, class) — one driver per module.
BUILTINS: tuple[tuple[DriverKind, str, str], ...] = ()


def register(registry: Registry) -> None:
    for kind, module, cls_name in BUILTINS:
        cls = getattr(importlib.import_module(module), cls_name)
        registry.register(kind, cls)
