"""Merges the parts that cover checklist items into one ``releasegate.yaml`` (as Nodes).

Parts that name the same element (the production ``health`` step, the ``approvals`` of
production, …) become one element whose ``checklist`` lists every item it covers. A
parent item whose only part would be a confirmation is left out when it has children:
it is covered when they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from releasegate.config.checklist import Checklist, ChecklistItem
from releasegate.config.checklist_recognise import recognise
from releasegate.config.checklist_rules import Context, Part
from releasegate.config.checklist_yaml import Node

Key = tuple[str, str, str]


@dataclass
class Element:
    """One element of the generated config and the items it covers."""

    section: str
    env: str
    key: str
    data: dict[str, Any]
    items: list[ChecklistItem] = field(default_factory=list)
    family: str | None = None
    order: int = 100

    def node(self, fields: dict[str, Any]) -> Node:
        """The element as a commented mapping: each covered item's text above it."""
        comment = [f"line {item.line}: {item.text}" for item in self.items]
        if self.data.get("todo"):
            comment.append("TODO: a suggestion that does not prove the item yet: give it your options "
                           "(or the step that does), then drop `TODO:` from its name")
        ids = [item.id for item in self.items]
        return Node({**fields, "checklist": ids} if ids else fields, comment=comment)


@dataclass
class Elements:
    """Every element, in the order first seen."""

    checklist: Checklist
    by_key: dict[Key, Element] = field(default_factory=dict)

    def of(self, section: str, env: str = "") -> list[Element]:
        """The elements of one section (and environment; "" for top-level sections)."""
        return [e for e in self.by_key.values() if e.section == section and e.env == env]

    def add(self, part: Part, env: str) -> None:
        """Merge ``part`` into the element with its key, creating it if needed."""
        key = (part.section, env, part.key)
        found = self.by_key.get(key)
        if found is None:
            self.by_key[key] = Element(part.section, env, part.key, _copy(part.data), [part.item],
                                       part.family, part.order)
            return
        if part.item not in found.items:
            found.items.append(part.item)
        _merge(found.data, part.data)

    def attach(self, part: Part, env: str) -> None:
        """Add ``part``'s item to every element of its family; create it if there is none."""
        family = [e for e in self.of(part.section, env) if e.family == part.family]
        if not family:
            self.add(part, env)
        for element in family:
            if part.item not in element.items:
                element.items.append(part.item)


def collect(checklist: Checklist) -> Elements:
    """Recognise every item and merge the parts into elements."""
    ctx = Context(checklist)
    elements = Elements(checklist)
    attached: list[Part] = []
    for item in checklist.items:
        parts = recognise(item, ctx)
        if item.children and all(p.section == "confirmation" for p in parts):
            continue  # covered by its children
        for part in parts:
            if part.attach:
                attached.append(part)
                continue
            for env in part.envs or ("",):
                elements.add(part, env)
    for part in attached:
        for env in part.envs or ("",):
            elements.attach(part, env)
    return elements


def _copy(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v)
            for k, v in data.items()}


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        current = into.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            _merge(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            current.extend(v for v in value if v not in current)
        elif key == "on_failure" and value == "rollback":
            into[key] = value
        elif current is None or current == []:
            into[key] = _copy({key: value})[key]
