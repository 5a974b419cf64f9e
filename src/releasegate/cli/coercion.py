"""Typer's parameter coercion without pydantic for the values every command line holds.

Typer 0.29 coerces each parameter's value through a pydantic ``TypeAdapter`` that it
builds, for every parameter of the command being run, on first use: importing its
adapters and building six or seven of them is a tenth of what ``releasegate history``
costs beyond importing its libraries. Almost every value is a plain ``str``, an ``int``
written in decimal digits or a list of ``str``, for which the adapter's answer is known
without asking it: the string itself, ``int(text)``, the list. Everything else (a path,
``-5``, ``007``, ``x`` for an ``int``, a bool read from an environment variable) goes to
Typer's own adapter, built then, so results, messages and exit codes are Typer's.
``tests/cli/test_coercion.py`` compares the two on such values.

:func:`install` replaces ``typer.core.build_runtime_param``; with another Typer, whose
internals differ, it changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_SLOW = object()
"""What a fast coercion returns when Typer's adapter must decide."""
_DECIMAL = re.compile(r"(?:0|[1-9][0-9]{0,17})\Z")
"""An ``int`` the adapter reads exactly as ``int()`` does: ASCII digits, no sign, no
leading zero, no ``_``, no spaces, fewer than 19 digits."""


def _same_str(value: Any) -> Any:
    return value if type(value) is str else _SLOW


def _decimal_int(value: Any) -> Any:
    if type(value) is int:
        return value
    if type(value) is str and _DECIMAL.match(value):
        return int(value)
    return _SLOW


def _str_list(value: Any) -> Any:
    if isinstance(value, list | tuple) and all(type(item) is str for item in value):
        return list(value)
    return _SLOW


def _always_slow(value: Any) -> Any:
    return _SLOW


def fast_coercion(descriptor: Any) -> Callable[[Any], Any]:
    """The coercion of a Typer ``TypeDescriptor`` that needs no adapter, where one applies."""
    info = descriptor.parameter_info
    if info.parser is not None or descriptor.file_annotation is not None:
        return _always_slow
    annotation = descriptor.annotation
    if annotation is str:
        return _same_str
    if annotation is int and info.min is None and info.max is None and not info.clamp:
        return _decimal_int
    if annotation == list[str]:
        return _str_list
    return _always_slow


_typer_build: Callable[[Any], Any] | None = None
"""Typer's own ``build_runtime_param``, once :func:`install` has replaced it."""


def typer_build() -> Callable[[Any], Any] | None:
    """Typer's own ``build_runtime_param`` (None before :func:`install`), for tests."""
    return _typer_build


def install() -> bool:
    """Make Typer coerce through :func:`fast_coercion` first; False if this Typer differs."""
    global _typer_build
    try:
        from typer import _coercion, core
    except ImportError:  # pragma: no cover - another Typer
        return False
    base = getattr(_coercion, "RuntimeParam", None)
    if _typer_build is not None:
        return True
    found = getattr(core, "build_runtime_param", None)
    if found is None or base is None:
        return False
    original: Callable[[Any], Any] = found
    _typer_build = original

    @dataclass(frozen=True)
    class FastRuntimeParam(base):  # type: ignore[misc, valid-type]
        """Coerces through ``fast``; builds Typer's own runtime parameter when it must."""

        descriptor: Any
        fast: Callable[[Any], Any]

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            found = self.fast(value)
            if found is _SLOW:
                return original(self.descriptor)._coerce_value(value, param=param, ctx=ctx)
            return found

    def build_runtime_param(descriptor: Any) -> Any:
        return FastRuntimeParam(
            annotation=descriptor.annotation,
            parameter_info=descriptor.parameter_info,
            descriptor=descriptor,
            fast=fast_coercion(descriptor),
        )

    setattr(core, "build_runtime_param", build_runtime_param)  # noqa: B010 - not exported
    return True
