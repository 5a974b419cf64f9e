"""Pydantic's validation errors, said in the words of the YAML file and located in it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from releasegate.config.document import Document, KeyPath, child, dotted
from releasegate.config.schema import keys_at, tag_core
from releasegate.config.timespec import did_you_mean
from releasegate.errors import Problem

_TYPE_WORDS = {
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
}


@dataclass
class _Entry:
    error: ErrorDetails
    path: KeyPath
    """The path in the data (union member names dropped)."""
    value: object
    present: bool
    missing: str | None
    unfit: tuple[KeyPath, str] | None
    """The first union member tried that does not match the value's shape."""
    on_key: bool


def translate(
    exc: ValidationError, doc: Document, model: type[BaseModel], prefix: KeyPath = ()
) -> list[Problem]:
    """One located problem per error of ``exc``; ``prefix`` is where ``model``'s data sits."""
    entries = [_walk(err, doc, prefix) for err in exc.errors(include_url=False)]
    entries = [e for e in entries if not any(e.path[: len(b)] == b for b in doc.broken)]
    fitting = [e for e in entries if e.unfit is None]
    problems = [_problem(e, doc, model) for e in fitting]
    collapsed: dict[KeyPath, list[str]] = {}
    for entry in entries:
        if entry.unfit is None:
            continue
        point, tag = entry.unfit
        if any(e.path[: len(point)] == point for e in fitting):
            continue  # another member of the union fits: its errors are the ones to show
        collapsed.setdefault(point, []).append(tag)
    for point, tags in collapsed.items():
        words = " or ".join(dict.fromkeys(_tag_word(t) for t in tags))
        problems.append(doc.problem(point, f"expected {words}, not {_show(doc.get(point))}"))
    return problems


def _walk(err: ErrorDetails, doc: Document, prefix: KeyPath) -> _Entry:
    path: list[str | int] = list(prefix)
    value = doc.get(prefix)
    present, missing, unfit, on_key = True, None, None, False
    loc = err["loc"]
    for i, seg in enumerate(loc):
        found, inner = child(value, seg)
        if found:
            path.append(seg)
            value = inner
        elif err["type"] == "missing" and i == len(loc) - 1:
            missing, present = str(seg), False
        elif seg == "[key]":
            on_key = True
        elif isinstance(seg, str):
            if unfit is None and not _fits(seg, value):
                unfit = (tuple(path), seg)
        else:
            present = False
    return _Entry(err, tuple(path), value, present, missing, unfit, on_key)


def _fits(tag: str, value: object) -> bool:
    tag = tag_core(tag)
    if tag.startswith("list["):
        return isinstance(value, list)
    if tag.startswith("dict[") or tag[:1].isupper():  # a model's name
        return isinstance(value, dict)
    return not isinstance(value, dict | list)


def _tag_word(tag: str) -> str:
    tag = tag_core(tag)
    if tag.startswith("list["):
        return "a list"
    if tag.startswith("dict[") or tag[:1].isupper():
        return "a mapping"
    return {
        "str": "a string",
        "int": "a whole number",
        "float": "a number",
        "bool": "true or false",
        "date": "a date (YYYY-MM-DD)",
    }.get(tag, tag)


def _problem(entry: _Entry, doc: Document, model: type[BaseModel]) -> Problem:
    err, path = entry.error, entry.path
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(path[-1])
        allowed = keys_at(model, [s for s in err["loc"][:-1] if s != "[key]"])
        return Problem(
            f"unknown key {key!r}{did_you_mean(key, allowed)}",
            dotted(path[:-1]),
            doc.at(path, key=True),
        )
    if kind == "missing" and entry.missing is not None:
        return Problem(f"missing required key {entry.missing!r}", dotted(path), doc.at(path))
    message = _message(err, entry.value)
    if entry.on_key:
        return Problem(f"the key {message}", dotted(path[:-1]), doc.at(path, key=True))
    return Problem(message, dotted(path), doc.at(path))


def _message(err: ErrorDetails, value: object) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return (
            f"{_show(value)} is not one of {', '.join(choices)}{did_you_mean(str(value), choices)}"
        )
    if kind == "string_pattern_mismatch":
        return (
            f"{_show(value)} is not a valid name (use letters, digits, '_', '.' and '-', "
            f"starting with a letter or digit)"
        )
    if kind in _TYPE_WORDS:
        return f"expected {_TYPE_WORDS[kind]}, not {_show(value)}"
    if kind in (
        "date_type",
        "date_parsing",
        "date_from_datetime_parsing",
        "date_from_datetime_inexact",
    ):
        return f"{_show(value)} is not a date (write YYYY-MM-DD)"
    if kind in ("value_error", "assertion_error"):
        return str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    msg = str(err["msg"])
    if msg.startswith("Input should be "):
        return f"{_show(value)} must be {msg.removeprefix('Input should be ')}"
    return f"{_show(value)}: {msg[:1].lower()}{msg[1:]}"


def _show(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
