"""How much of a checklist a config covers: each item automated, policy, signed,
suggested or missing.

An item is

* **automated** when the ``checklist`` list of a step (gates, deploy, post, rollback
  steps) or a verification stage names its id — a step whose ``name`` starts with
  ``TODO:`` is only *suggested*;
* **policy** when an environment (its window and freezes), its approvals, soak or
  rollback settings, or the emergency or incidents settings name it;
* **signed** when a confirmation names it, in its ``checklist`` or as its ``id``;
* **suggested** when only a ``TODO:`` step names it: it is still to do;
* **missing** otherwise — unless it has child items and every one of them is covered:
  then it takes the weakest of their statuses.

Ids the config names that the checklist does not have are reported as warnings.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from releasegate.config.checklist import Checklist, ChecklistItem
from releasegate.config.models import Config, Step

Status = Literal["automated", "policy", "signed", "suggested", "missing"]
STATUSES: tuple[Status, ...] = ("automated", "policy", "signed", "suggested", "missing")
SUGGESTED = "TODO:"
"""How the name of a step that does not yet prove its items starts."""


@dataclass(frozen=True)
class ItemCoverage:
    """One item and what covers it (``where``: the config paths naming it)."""

    item: ChecklistItem
    status: Status
    where: tuple[str, ...] = ()


@dataclass
class Coverage:
    """The coverage of one checklist by one config."""

    items: list[ItemCoverage]
    warnings: list[str] = field(default_factory=list)

    def count(self, status: Status) -> int:
        """How many items have ``status``."""
        return sum(1 for i in self.items if i.status == status)

    @property
    def missing(self) -> list[ItemCoverage]:
        return [i for i in self.items if i.status == "missing"]

    def summary(self) -> str:
        """``114 items: 40 automated (35%), 20 policy, 50 signed, 4 suggested, 0 missing``."""
        total = len(self.items)
        automated = self.count("automated")
        share = round(100 * automated / total) if total else 0
        return (f"{total} items: {automated} automated ({share}%), "
                f"{self.count('policy')} policy, {self.count('signed')} signed, "
                f"{self.count('suggested')} suggested (to do), {self.count('missing')} missing")

    def as_json(self) -> dict[str, object]:
        """A JSON-ready object: the counts, every item with its status, the warnings."""
        return {
            "total": len(self.items),
            **{status: self.count(status) for status in STATUSES},
            "items": [
                {"id": c.item.id, "line": c.item.line, "text": c.item.text,
                 "status": c.status, "covered_by": list(c.where)}
                for c in self.items
            ],
            "warnings": list(self.warnings),
        }


def references(config: Config) -> Iterator[tuple[str, str, Status]]:
    """Every checklist id the config names: (id, where, status it gives)."""
    for name, env in config.environments.items():
        base = f"environments.{name}"
        yield from _ids(env.checklist, base, "policy")
        for phase, steps in (("gates", env.gates), ("deploy", env.deploy), ("post", env.post),
                             ("rollback.steps", env.rollback.steps)):
            yield from _steps(steps, f"{base}.{phase}")
        for stage in env.verify:
            yield from _ids(stage.checklist, f"{base}.verify.{stage.stage}", "automated")
        if env.approvals:
            yield from _ids(env.approvals.checklist, f"{base}.approvals", "policy")
        if env.soak:
            yield from _ids(env.soak.checklist, f"{base}.soak", "policy")
        yield from _ids(env.rollback.checklist, f"{base}.rollback", "policy")
    yield from _ids(config.emergency.checklist, "emergency", "policy")
    yield from _ids(config.incidents.checklist, "incidents", "policy")
    for confirmation in config.confirmations:
        where = f"confirmations.{confirmation.id}"
        yield from _ids(confirmation.checklist, where, "signed")


def _steps(steps: list[Step], base: str) -> Iterator[tuple[str, str, Status]]:
    for step in steps:
        status: Status = "suggested" if (step.name or "").startswith(SUGGESTED) else "automated"
        yield from _ids(step.checklist, f"{base}.{step.id}", status)


def _ids(ids: list[str], where: str, status: Status) -> Iterator[tuple[str, str, Status]]:
    for item_id in ids:
        yield item_id, where, status


def compute_coverage(config: Config, checklist: Checklist) -> Coverage:
    """Which items of ``checklist`` the ``config`` automates, confirms, or leaves out."""
    found: dict[str, list[tuple[str, Status]]] = {}
    warnings: list[str] = []
    for item_id, where, status in references(config):
        if item_id in checklist:
            found.setdefault(item_id, []).append((where, status))
        else:
            close = difflib.get_close_matches(item_id, checklist.ids, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            warnings.append(f"{where}: unknown checklist id {item_id!r}{hint}")
    for confirmation in config.confirmations:
        for variant in {confirmation.id, confirmation.id.replace(".", "/")}:
            if variant in checklist:
                found.setdefault(variant, []).append((f"confirmations.{confirmation.id}", "signed"))
    statuses: dict[str, ItemCoverage] = {}
    for item in reversed(checklist.items):  # children come after their parents
        refs = found.get(item.id, [])
        places = tuple(dict.fromkeys(place for place, _ in refs))
        statuses[item.id] = ItemCoverage(item, _status(refs, item, statuses), places)
    return Coverage([statuses[i.id] for i in checklist.items], warnings)


def _status(refs: list[tuple[str, Status]], item: ChecklistItem,
            done: dict[str, ItemCoverage]) -> Status:
    """The strongest status anything naming the item gives — but suggested when a step
    meant to prove it is only suggested: part of it is still to do; else its weakest
    child's."""
    if any(status == "suggested" for _, status in refs):
        return "suggested"
    if refs:
        return min((status for _, status in refs), key=STATUSES.index)
    kids = [done[child].status for child in item.children]
    if not kids:
        return "missing"
    return max(kids, key=STATUSES.index)
