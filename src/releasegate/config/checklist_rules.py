"""Which part of a ``releasegate.yaml`` covers a checklist item.

:func:`recognise` turns one :class:`~releasegate.config.checklist.ChecklistItem` into
:class:`Part` s: a step of a driver, a verification stage, a policy setting (approvals,
soak, window, incidents, rollback, emergency), or — when nothing is recognised — a
confirmation a person signs. :mod:`releasegate.config.checklist_build` merges the parts
into one config. The rules are tried in order; the first that matches wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from releasegate.config import checklist_text as words
from releasegate.config.checklist import Checklist, ChecklistItem, slugify
from releasegate.config.checklist_classify import Placement, classify

STAGING, PRODUCTION = "staging", "production"
ENVIRONMENTS = (STAGING, PRODUCTION)
BOTH = ENVIRONMENTS

# Where a deploy-phase step goes among the others (they run one after another).
DEPLOY_ORDER = {"git": 10, "backup": 20, "maintenance": 30, "migrate": 40, "release": 50,
                "health": 60, "version": 70, "smoke": 80, "maintenance-off": 90}


@dataclass
class Part:
    """One element of the config that covers (part of) one checklist item."""

    section: str
    """gates, deploy, verify, approvals, soak, window, incidents, rollback, emergency,
    confirmation."""
    envs: tuple[str, ...]
    key: str
    item: ChecklistItem
    data: dict[str, Any] = field(default_factory=dict)
    family: str | None = None
    attach: bool = False
    """Join the existing elements of the same family; create this one only if none exist."""
    order: int = 100


Rule = Callable[[ChecklistItem, "Context"], list[Part] | None]


@dataclass
class Context:
    """What rules may look at besides the item."""

    checklist: Checklist
    placements: dict[str, Placement] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.placements:
            self.placements = classify(self.checklist)

    def kind(self, item: ChecklistItem) -> str:
        """Where ``item`` belongs (see :mod:`releasegate.config.checklist_classify`)."""
        return self.placements[item.id].kind

    def parent(self, item: ChecklistItem) -> ChecklistItem | None:
        """The item ``item`` is nested under, if any."""
        return self.checklist.get(item.parent) if item.parent else None


def _has(pattern: str, text: str) -> bool:
    return re.search(pattern, text, re.IGNORECASE) is not None


def environments(item: ChecklistItem, *, default: tuple[str, ...] = BOTH) -> tuple[str, ...]:
    """The environments an item is about: the one its own words name (``on staging``),
    else its nearest heading naming one."""
    named = [env for env in ENVIRONMENTS if _has(rf"\b(on|to|in|into) {env}\b", item.title)]
    if len(named) == 1:
        return (named[0],)
    for heading in reversed(item.headings):
        if _has(r"\bstaging\b", heading):
            return (STAGING,)
        if _has(r"\bproduction\b", heading):
            return (PRODUCTION,)
    return default


# The confirmation phase of each kind of item, and whether it holds the deployment.
_PHASES: dict[str, tuple[str, bool]] = {
    "gate": ("gates", True), "step": ("deploy", True), "verify": ("verify", False),
    "rollback-trigger": ("verify", False), "rollback": ("post", False),
    "emergency": ("gates", True), "periodic": ("post", False), "communication": ("gates", False),
}


def phase(item: ChecklistItem, ctx: Context) -> tuple[str, bool]:
    """When in a deployment a person signs ``item``, and whether the deployment waits."""
    return _PHASES[ctx.kind(item)]


def _emergency(item: ChecklistItem, ctx: Context) -> list[Part] | None:
    if not any(_has(r"emergency|hotfix", h) for h in item.headings):
        return None
    if _has(r"review|minimal fix|branch|merge", item.title):
        return confirmation(item, ctx, kinds=["hotfix"])
    data: dict[str, Any] = {}
    text = " ".join([item.text, *item.details])
    amounts = words.durations(text)
    if amounts and _has(r"staging", item.title):
        data["staging_verify_max"] = amounts[0]
    elif amounts and _has(r"monitor|watch", text):
        data["monitor_for"] = amounts[0]
    elif amounts and _has(r"post-?mortem", text):
        data["postmortem_within"] = amounts[0]
    families = [f for f, p in (("tests", r"\btests?\b"), ("security", r"security|scan")) if _has(p, item.title)]
    if families:
        data["gate_families"] = families
    return [Part("emergency", (), "emergency", item, data)]


def _rollback_trigger(item: ChecklistItem, ctx: Context) -> list[Part] | None:
    envs = environments(item)
    if _has(r"rollback|roll back", item.title) and _has(r"\bfail", item.title):
        failing = {"smoke": r"smoke", "health": r"health", "migrate": r"migrat"}
        for key, pattern in failing.items():
            if _has(pattern, item.title):
                return [_step_part(key, item, ctx, envs=envs, on_failure="rollback")]
        return [Part("rollback", envs, "rollback", item)]
    if ctx.kind(item) != "rollback-trigger":
        return None
    when = words.thresholds([item.title])
    if when:  # a measurable condition: the rollback watches for it
        return [Part("rollback", envs, "rollback", item, {"when": when})]
    return confirmation(item, ctx)  # a person judges it, after the release


def _rollback_execution(item: ChecklistItem, ctx: Context) -> list[Part] | None:
    if ctx.kind(item) != "rollback":
        return None
    if _has(r"roll-?back (is |was )?(initiated|executed|triggered|started|performed)|"
            r"previous version (restored|deployed)", item.title):
        return [Part("rollback", environments(item), "rollback", item)]
    return confirmation(item, ctx, kinds=["rollback"])


def _approvals(item: ChecklistItem, ctx: Context) -> list[Part] | None:
    if not _has(r"sign[- ]?off|approv", item.title):
        return None
    roles = [role for role, p in (("qa", r"\bqa\b|quality"), ("product-owner", r"product"),
                                  ("tech-lead", r"tech(nical)?[- ]lead"),
                                  ("security", r"security")) if _has(p, item.title)]
    if not roles:
        return None
    envs = environments(item, default=(PRODUCTION,))
    return [Part("approvals", envs, "approvals", item, {"roles": roles})]


def _soak(item: ChecklistItem, ctx: Context) -> list[Part] | None:
    if not _has(r"\bsoak", item.title + " " + item.text):
        return None
    data: dict[str, Any] = {}
    found = words.time_range(item.text)
    amounts = [found[0]] if found else words.durations(item.text)
    if amounts:
        data["major" if _has(r"major", item.text) else "normal"] = amounts[0]
    return [Part("soak", (PRODUCTION,), "soak", item, data)]


def _window(item: ChecklistItem, ctx: Context) -> list[Part] | None:
    if not _has(r"deployment window|window scheduled|freeze", item.title):
        return None
    return [Part("window", environments(item, default=(PRODUCTION,)), "window", item)]


def _incidents(item: ChecklistItem, ctx: Context) -> list[Part] | None:
    if not _has(r"incident", item.title):
        return None
    return [Part("incidents", (), "incidents", item)]


def _monitoring_window(item: ChecklistItem, ctx: Context) -> list[Part] | None:
    span = words.time_range(item.title)
    if span is None or not _has(r"monitor|verif|watch", item.title):
        return None
    start, end = span
    name = slugify(re.sub(r"\(.*?\)|verification|monitoring|\d.*", " ", item.title)) or "stage"
    envs = environments(item)
    check = words.thresholds(item.details)
    data: dict[str, Any] = {"stage": name, "for": end - start, "check": check, "start": start}
    parts = [Part("verify", envs, name, item, data, family="verify", order=int(start.total_seconds()))]
    if words.url_paths(item):
        parts.append(_step_part("health", item, ctx, envs=envs))
    if words.command_with(item, "version"):
        parts.append(_step_part("version", item, ctx, envs=envs))
    return parts


def _performance(item: ChecklistItem, ctx: Context) -> list[Part] | None:
    if not _has(r"performance( metrics)? (is |are )?(acceptable|normal|ok)", item.title):
        return None
    check = words.thresholds(item.details)
    data: dict[str, Any] = {"stage": "performance", "for": _minutes(5), "check": check,
                            "start": _minutes(0)}
    return [Part("verify", environments(item), "performance", item, data, family="verify",
                 attach=not check)]


def _minutes(n: int) -> timedelta:
    return words.duration(str(n), "m")


def recognised_step(key: str, pattern: str, unless: str = "") -> Rule:
    """A rule: items whose title (or bold label) matches ``pattern`` become step ``key`` —
    unless their title matches ``unless`` (the step would not prove what they say)."""
    def rule(item: ChecklistItem, ctx: Context) -> list[Part] | None:
        text = " ".join([item.title, item.label or ""])
        if not _has(pattern, text) or (unless and _has(unless, item.title)):
            return None
        return [_step_part(key, item, ctx, envs=environments(item))]

    return rule


def _step_part(key: str, item: ChecklistItem, ctx: Context, *, envs: tuple[str, ...],
               on_failure: str | None = None) -> Part:
    """The deploy-phase step ``key`` (see DEPLOY_ORDER), with options read off the item."""
    data: dict[str, Any] = {"id": key}
    options: dict[str, Any] = {}
    if key == "smoke":
        data["uses"], options["flows"] = "smoke", "smoke/"
    elif key == "health":
        paths = [p for p in words.url_paths(item) if "version" not in p]
        data["uses"], options["paths"] = "http-check", paths
    elif key == "version":
        data["uses"] = "version-check"
    elif key == "backup":
        data["uses"], options["database"] = "backup", "${env:DATABASE_URL}"
    elif key == "migrate":
        data["uses"] = "migrate"
        status = words.command_with(item, "migrat", "status")
        if status:
            options["run"] = [("deploy" if w == "status" else w) for w in status]
            options["status"] = status
    elif key == "maintenance":
        data["uses"] = "maintenance"
        command = words.code_commands(item)
        if _has(r"disable|turn off|\boff\b", item.title):
            key, options["action"] = "maintenance-off", "disable"
            if command:
                options["disable"] = command[0]
        elif command:
            options["enable"] = command[0]
        data["id"] = key
    elif key == "git":
        data["uses"] = "git"
        tagging = words.command_with(item, "git", "tag")
        template = words.tag_template(tagging) if tagging else None
        options.update(tag=True, tag_template=template or "v{version}", push=True)
    elif key == "release":
        data["uses"] = "target"
    if on_failure:
        data["on_failure"] = on_failure
    data["with"] = options
    family = "maintenance" if key.startswith("maintenance") else key
    return Part("deploy", envs, key, item, data, family=family, order=DEPLOY_ORDER[key])


POLICY_RULES: list[Rule] = [
    _emergency, _rollback_trigger, _rollback_execution, _approvals, _soak, _window, _incidents,
    _monitoring_window, _performance,
]
"""Tried first: items that are settings of a policy rather than steps."""

STEP_RULES: list[Rule] = [
    recognised_step("backup", r"backup.*\b(created?|completed?|taken|made)\b|\bcreate\b.*\bbackup"),
    recognised_step("smoke", r"smoke|critical (user )?flows?"),
    recognised_step("migrate", r"migrations?\b.*\b(applied|completed?|run|ran|done)\b|apply.*migrations|\bmigrate\b",
                    unless=r"\btest|locally|document|review|reversib|\bplan"),
    recognised_step("maintenance", r"(enable|disable|turn on|turn off).*maintenance"),
    recognised_step("git", r"\btag\b.*\bcreated?\b|\bcreate\b\s+(an? |the |annotated |lightweight |"
                           r"deployment |production |release |git |version )*tag\b"),
    recognised_step("release", r"trigger.*(deploy|workflow)|workflow triggered|container deployment|(pre-deployment|pre-flight) checks"),
    recognised_step("version", r"version\b.*\b(verif|check)|\b(verif\w*|check)\b.*\bversion\b",
                    unless=r"checkout|minimum|supported|bump|tested|branch"),
    recognised_step("health", r"health[- ]?checks?\b|health endpoints?"),
]


def confirmation(item: ChecklistItem, ctx: Context, *, kinds: list[str] | None = None) -> list[Part]:
    """The fallback: a person signs the item (role guessed from its words)."""
    envs = environments(item)
    when, holds = phase(item, ctx)
    text = re.sub(r"[*_`]+", "", item.title)
    if ctx.kind(item) == "rollback-trigger":
        text = f"Roll back if: {text}"
    data: dict[str, Any] = {
        "text": text,
        "by": [words.guess_role(item, ctx.parent(item))],
        "phase": when,
    }
    if not holds:
        data["required"] = False
    if envs != BOTH:
        data["environments"] = list(envs)
    if ctx.kind(item) == "emergency":
        kinds = kinds or ["hotfix"]
    if kinds:
        data["kinds"] = kinds
    elif _has(r"major release", item.text):
        data["kinds"] = ["major"]
    return [Part("confirmation", (), slugify(item.title) or "item", item, data)]

