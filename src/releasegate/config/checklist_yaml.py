"""A small YAML writer with comments, for the configs ``releasegate init`` generates.

Block style for mappings and for lists of mappings, flow style for short leaves
(``run: [npm, run, "test:unit"]``), a comment block above any :class:`Node`. Strings are
left plain only when YAML 1.1 and 1.2 both read them back as the same string.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from releasegate.config.types import format_duration

_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./ -]*$")
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "none", "~"}
_FLOW_WIDTH = 72


class Node(dict[str, Any]):
    """A mapping written in block style with comment lines above it."""

    def __init__(self, *args: Any, comment: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.comment: list[str] = list(comment or [])


def dump(value: dict[str, Any], *, header: list[str] | None = None) -> str:
    """The YAML text of ``value``, with ``header`` comment lines first."""
    lines = [_comment(line) for line in header or []]
    lines += _mapping(value, 0)
    return "\n".join(lines) + "\n"


def scalar(value: Any) -> str:
    """One scalar, quoted when it would not read back as itself."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, timedelta):
        return format_duration(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED and not text.endswith(" "):
        return text
    return json.dumps(text, ensure_ascii=False)


def _comment(line: str) -> str:
    return f"# {line}".rstrip()


def _flow(value: Any) -> str | None:
    """``value`` in flow style if it is a leaf short enough for one line, else ``None``."""
    if isinstance(value, Node) and value.comment:
        return None
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = [(scalar(k), _flow(v)) for k, v in value.items()]
        if any(v is None for _, v in inner):
            return None
        text = "{" + ", ".join(f"{k}: {v}" for k, v in inner) + "}"
    elif isinstance(value, list):
        if not value:
            return "[]"
        inner_values = [_flow(v) for v in value]
        if any(v is None or isinstance(item, dict) for v, item in zip(inner_values, value, strict=True)):
            return None
        text = "[" + ", ".join(v for v in inner_values if v is not None) + "]"
    else:
        return scalar(value)
    return text if len(text) <= _FLOW_WIDTH else None


def _mapping(value: dict[str, Any], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for key, item in value.items():
        if isinstance(item, Node) and item.comment:
            lines += [pad + _comment(c) for c in item.comment]
        flow = _flow(item)
        if flow is not None:
            lines.append(f"{pad}{scalar(key)}: {flow}")
        elif isinstance(item, dict):
            lines.append(f"{pad}{scalar(key)}:")
            lines += _mapping(item, indent + 2)
        else:
            lines.append(f"{pad}{scalar(key)}:")
            lines += _sequence(item, indent + 2)
    return lines


def _sequence(value: list[Any], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for item in value:
        if isinstance(item, Node) and item.comment:
            lines += [pad + _comment(c) for c in item.comment]
        flow = _flow(item)
        if flow is not None and not isinstance(item, dict):
            lines.append(f"{pad}- {flow}")
            continue
        body = _mapping(item, indent + 2) if isinstance(item, dict) else _sequence(item, indent + 2)
        if body:
            body[0] = pad + "- " + body[0][indent + 2:]
        lines += body
    return lines
