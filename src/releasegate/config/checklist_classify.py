"""Where in a release a checklist item belongs, and why.

Each box is one of

* ``gate`` — checked before anything changes (pre-deployment);
* ``step`` — done while deploying;
* ``verify`` — checked after the release (post-release verification, monitoring);
* ``rollback-trigger`` — a condition that calls for a rollback;
* ``rollback`` — what is done while rolling back;
* ``emergency`` — only on the hotfix path;
* ``periodic`` — a review or cleanup done on a schedule, not per deployment;
* ``communication`` — telling people (announce, notify, email, release notes sent).

The item's own wording decides first for the kinds wording settles alone (a rollback
trigger, a periodic review, an announcement); then a nested item takes its parent's kind;
then its headings: emergency, rollback, periodic, communication, pre- and post-deployment
wherever they appear among them (a *Validation* section under *Pre-deployment* is a gate),
else the innermost heading that says something; the document's title is left out. A box
in a deployment section that checks a result rather than doing something is ``verify``.
Last, its position: an item under headings that say nothing takes the kind of the
section before it (a *Notes* section after *Post-release* is post-release too). Policy
(windows, freezes, approvals, soak) is recognised by the rules, from wording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from releasegate.config.checklist import Checklist, ChecklistItem

KINDS = ("gate", "step", "verify", "rollback-trigger", "rollback", "emergency", "periodic",
         "communication")


@dataclass(frozen=True)
class Placement:
    """An item's kind and the words that decided it."""

    kind: str
    why: str


# Headings that settle an item's kind wherever they are among its headings (the first
# pattern found in any heading wins) ...
_EMERGENCY = re.compile(r"emergency|hot-?fix", re.I)
_ROLLBACK = re.compile(r"roll-?back|revert", re.I)
_DOMINANT: list[tuple[str, re.Pattern[str]]] = [
    ("emergency", _EMERGENCY),
    ("rollback", _ROLLBACK),
    ("periodic", re.compile(r"weekly|monthly|quarterly|periodic|clean-?up|retrospective|"
                            r"checklist maintenance|keep checklists", re.I)),
    ("communication", re.compile(r"communicat|announce|notif", re.I)),
    ("gate", re.compile(r"\bpre[- ]?(deploy|release|flight|launch)|\bbefore\b", re.I)),
    ("verify", re.compile(r"\bpost[- ]?(deploy|release|launch)|\bafter\b", re.I)),
]
_TRIGGER = re.compile(r"roll-?back.*(criteria|trigger|when)|(criteria|trigger|when).*roll-?back",
                      re.I)
# ... then these, innermost heading first.
_HEADINGS: list[tuple[str, re.Pattern[str]]] = [
    ("verify", re.compile(r"verification|validation|monitoring|\d+\s*(min|h)|success criteria",
                          re.I)),
    ("gate", re.compile(r"prepar|planning|readiness|prerequisite|quality|code review|testing|"
                        r"security|versioning|documentation|issues|approv|sign-?off", re.I)),
    ("step", re.compile(r"during|deployment steps|execution|release process|rollout|traffic|"
                        r"^\W*(the )?(deploy(ment)?|release|releasing)\b|"
                        r"^(staging|production|beta|canary)( deployment)?$|^build|deploy", re.I)),
]

_WORDING: list[tuple[str, re.Pattern[str]]] = [
    ("rollback-trigger", re.compile(r"(→|->|=>|then)\s*(automatic )?roll-?back|"
                                    r"roll-?back (if|when)(?! (needed|necessary|required|applicable))|trigger(s|ed)? (a )?roll-?back", re.I)),
    ("periodic", re.compile(r"\b(weekly|monthly|quarterly|every (week|month|quarter))\b", re.I)),
    ("communication", re.compile(r"^(announce|notify|inform|email|send|post (in|to|on)|tweet)\b|"
                                 r"\b(announcement|stakeholders notified|team notified)\b", re.I)),
]


_TITLE = re.compile(r"^\W*((the|our|production|staging|software|app|application)\s+)*"
                    r"((deployment|release|deploy)\s+)?check-?list(\s+template)?\W*$", re.I)


def classify(checklist: Checklist) -> dict[str, Placement]:
    """The placement of every item of ``checklist``, by id."""
    placements: dict[str, Placement] = {}
    previous = Placement("gate", "the first section of the document, before any deployment")
    for item in checklist.items:
        parent = placements.get(item.parent) if item.parent else None
        found = _by_wording(item) or (parent if parent and parent.kind != "gate" else None)
        found = found or _by_headings(item) or parent
        if found is not None and found.kind == "step":
            found = _checked_after(item) or found
        if found is None:
            found = Placement(previous.kind, f"its section follows one of kind {previous.kind} "
                                             f"({previous.why})")
        placements[item.id] = found
        if item.parent is None:
            previous = found
    return placements


def _by_wording(item: ChecklistItem) -> Placement | None:
    for kind, pattern in _WORDING:
        match = pattern.search(item.title)
        if match:
            return Placement(kind, f"its wording: {match.group(0).strip()!r}")
    return None


_CHECKING = re.compile(r"\b(verify|verified|confirm|ensure|check|monitor\w*|working|active|"
                       r"healthy|stable|tracking|no (new )?errors?)\b", re.I)
_DOING = re.compile(r"\b(deploy|run|apply|migrat\w*|tag|build|push|trigger|enable|disable|"
                    r"back ?up|create|merge|publish|upload|release)\b", re.I)


def _checked_after(item: ChecklistItem) -> Placement | None:
    """A box in a deployment section that checks the result rather than doing a step."""
    checking = _CHECKING.search(item.title)
    if checking is None or _DOING.search(item.title):
        return None
    return Placement("verify", f"it checks the result ({checking.group(0)!r}) in a deployment "
                               "section, so after the release")


def _by_headings(item: ChecklistItem) -> Placement | None:
    # the document's title says what the whole list is, not where an item is
    headings = [h for h in (*item.headings, item.section or "") if h and not _is_title(h)]
    rollback = [h for h in headings if _ROLLBACK.search(h)]
    if rollback and not _EMERGENCY.search(" ".join(headings)):
        # the innermost rollback heading says whether it is about when or how to roll back
        match = _TRIGGER.search(rollback[-1])
        if match:
            return Placement("rollback-trigger", f"its heading {rollback[-1]!r} says "
                                                 f"{match.group(0).strip()!r}")
    dominant = [(k, p, h) for k, p in _DOMINANT for h in headings]
    nearest = [(k, p, h) for h in reversed(headings) for k, p in _HEADINGS]
    for kind, pattern, heading in dominant + nearest:
        match = pattern.search(heading)
        if match:
            return Placement(kind, f"its heading {heading!r} says {match.group(0).strip()!r}")
    return None


def _is_title(heading: str) -> bool:
    return bool(_TITLE.search(heading))
