"""The whole ``releasegate.yaml`` for a checklist: environments, policy, confirmations.

:func:`config_from_checklist` returns the document as :class:`Node` s (dicts with
comments) ready for :func:`releasegate.config.checklist_yaml.dump`. Settings that no item
carries but that the document states in prose (deployment windows, freeze periods, the
conditions that call for a rollback) are read from the markdown text too.
"""

from __future__ import annotations

import re
from typing import Any

from releasegate.config import checklist_text as words
from releasegate.config.checklist import Checklist, ChecklistItem, slugify
from releasegate.config.checklist_build import Element, Elements, collect
from releasegate.config.checklist_coverage import SUGGESTED
from releasegate.config.checklist_rules import ENVIRONMENTS, PRODUCTION, STAGING
from releasegate.config.checklist_yaml import Node

_DAYS = r"(mon|tue|wed|thu|fri|sat|sun)[a-z]*"
_WINDOW = re.compile(_DAYS + r"\s*[-–]\s*" + _DAYS + r",?\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*([A-Z]{3,4}\b|[A-Za-z]+/[A-Za-z_]+)?", re.I)
_USERS = {"devops": ["devops", "devops-lead", "admin"], "on-call": ["on-call"]}


def config_from_checklist(checklist: Checklist, text: str, *, project: str,
                          checklist_path: str) -> Node:
    """The config covering every item of ``checklist`` (``text`` is its markdown)."""
    elements = collect(checklist)
    _share_options(elements)
    prose = _Prose(text)
    environments = Node()
    for env in ENVIRONMENTS:
        environments[env] = _environment(env, elements, prose, checklist)
    confirmations = _confirmations(elements)
    doc = Node(project=project, checklist=checklist_path)
    doc["users"] = _users(elements, confirmations)
    if prose.calendars:
        doc["calendars"] = Node(prose.calendars, comment=["Freeze calendars, from the checklist's freeze periods."])
    doc["environments"] = environments
    doc["confirmations"] = confirmations
    for section in ("incidents", "emergency"):
        found = elements.of(section)
        if found:
            doc[section] = _policy(found[0], elements)
    if prose.campaign_buffer:
        doc["campaigns"] = {"buffer": prose.campaign_buffer}
    return doc


class _Prose:
    """What the document says outside its checkboxes."""

    def __init__(self, text: str) -> None:
        lower = text.lower()
        self.windows: dict[str, dict[str, Any]] = {}
        label = ""
        rollback_lines: list[str] = []
        section = ""
        for line in text.splitlines():
            if line.startswith("## "):
                section = line.lower()
            if "rollback" in section:
                rollback_lines.append(line)
            named = re.search(r"\*\*(production|staging)\*\*", line, re.I)
            label = named.group(1).lower() if named else label
            match = _WINDOW.search(line)
            if match and label and label not in self.windows:
                self.windows[label] = {"days": [f"{match.group(1)[:3]}-{match.group(2)[:3]}".lower()],
                                       "hours": f"{match.group(3)}-{match.group(4)}",
                                       "tz": match.group(5) or "UTC"}
        self.rollback_when = words.thresholds([ln for ln in rollback_lines if ">" in ln])
        self.calendars: dict[str, Any] = {}
        if "holiday" in lower:
            country = "IN" if re.search(r"diwali|india", lower) else "US"
            self.calendars["holidays"] = Node(
                holidays={"country": country, "categories": holiday_categories(country)},
                comment=["TODO: check the country (holidays package, ISO 3166 code)"])
        peaks: dict[str, Any] = {}
        if re.search(r"month[- ]end", lower):
            peaks["month_end"] = {"last_days": 2}
        if re.search(r"quarter[- ]end", lower):
            peaks["quarter_end"] = {"last_days": 5}
        if peaks:
            self.calendars["peaks"] = peaks
        self.freezes = list(self.calendars)
        self.freezes += [n for n in ("incidents", "campaigns") if n[:-1] in lower]
        buffer = re.search(r"within (\d+) (hours?|minutes?|days?) of [\w ]*campaign", lower)
        self.campaign_buffer = words.duration(buffer.group(1), buffer.group(2)) if buffer else None


def holiday_categories(country: str) -> list[str]:
    """``public``, plus ``optional`` where the country has optional holidays (India does,
    the United States do not): a category the country lacks fails ``validate``."""
    from releasegate.config.countries import country_class

    try:
        known = set(country_class(country).supported_categories)
    except (KeyError, ImportError):
        return ["public"]
    return ["public", *(["optional"] if "optional" in known else [])]


def _environment(env: str, elements: Elements, prose: _Prose, checklist: Checklist) -> Node:
    node = Node()
    urls = [u for e in elements.by_key.values() if e.env == env for i in e.items for u in words.base_urls(i)]
    node["url"] = urls[0] if urls else "http://127.0.0.1:8000"
    node["target"] = Node({"uses": "command", "with": {"deploy": ["./deploy.sh", env, "{version}"]}},
                          comment=["How a version is deployed here. TODO: your target."])
    if env == PRODUCTION:
        node["promote_from"] = STAGING
    window = elements.of("window", env)
    default = {"days": ["mon-fri"], "hours": "09:00-18:00", "tz": "UTC"}
    if env == PRODUCTION:
        default = {"days": ["tue-thu"], "hours": "10:00-14:00", "tz": "UTC"}
    node["window"] = Node(prose.windows.get(env, default), comment=["When deployments may start."])
    if env == PRODUCTION and prose.freezes:
        node["freezes"] = prose.freezes
    for section in ("soak", "approvals"):
        for element in elements.of(section, env):
            node[section] = _policy(element, elements)
    for phase in ("gates", "deploy"):
        steps = sorted(elements.of(phase, env), key=lambda e: e.order if phase == "deploy" else 0)
        if phase == "deploy" and not any(e.key == "release" for e in steps):
            steps.append(Element("deploy", env, "release", {"id": "release", "uses": "target"}, order=50))
            steps.sort(key=lambda e: e.order)
        if phase == "gates":
            steps.insert(0, Element("gates", env, "checklist-sync",
                                    {"id": "checklist-sync", "uses": "checklist-sync"}))
        node[phase] = _steps(steps, chain=phase == "deploy")
    node["gates"][0].comment = ["Fails when the checklist gains a box this file does not cover."]
    stages = sorted(elements.of("verify", env), key=lambda e: e.order)
    if stages:
        node["verify"] = _stages(stages)
    node["rollback"] = _rollback(elements.of("rollback", env), prose)
    if window:
        node["checklist"] = [i.id for i in window[0].items]
        node.comment = [f"line {i.line}: {i.text}" for i in window[0].items]
    return node


def _share_options(elements: Elements) -> None:
    """A step found in one environment with options lends the others the ones they lack."""
    steps = [e for e in elements.by_key.values() if e.section in ("gates", "deploy")]
    for step in steps:
        for other in steps:
            same_env_family = other.env == step.env and other.data.get("uses") == step.data.get("uses")
            if other is step or other.section != step.section or not (
                    other.key == step.key or same_env_family):
                continue
            options, theirs = step.data.setdefault("with", {}), other.data.get("with", {})
            for name, value in theirs.items():
                if name != "action":
                    options.setdefault(name, value)


_PLACEHOLDERS = {
    "migrate": {"run": ["make", "migrate"]},
    "maintenance": {"enable": ["make", "maintenance-on"], "disable": ["make", "maintenance-off"]},
    "maintenance-off": {"enable": ["make", "maintenance-on"], "disable": ["make", "maintenance-off"]},
    "health": {"paths": ["/health"]},
}


def _steps(steps: list[Element], *, chain: bool) -> list[Node]:
    nodes: list[Node] = []
    for n, step in enumerate(steps):
        fields = {k: v for k, v in step.data.items() if k in ("id", "uses", "with", "on_failure")}
        missing = {k: v for k, v in _PLACEHOLDERS.get(step.key, {}).items()
                   if not fields.get("with", {}).get(k)}
        if missing:
            fields["with"] = {**fields.get("with", {}), **missing}
            step.data["todo"] = True
        if step.data.get("todo"):  # coverage counts it as suggested, not automated
            fields = {"id": fields["id"], "name": f"{SUGGESTED} {step.items[0].title}"[:120],
                      **{k: v for k, v in fields.items() if k != "id"}}
        if not fields.get("with"):
            fields.pop("with", None)
        if chain and n:
            fields["needs"] = [steps[n - 1].data["id"]]
        nodes.append(step.node(fields))
    return nodes


def _stages(stages: list[Element]) -> list[Node]:
    checks = [s.data.get("check") for s in stages]
    nodes: list[Node] = []
    for n, stage in enumerate(stages):
        check = checks[n] or next((c for c in checks[n:] + checks[:n][::-1] if c), None)
        if not check:
            check, stage.data["todo"] = {"error_rate": "< 1%"}, True
        fields = {"stage": stage.data["stage"], "for": stage.data["for"], "check": check}
        nodes.append(stage.node(fields))
    return nodes


def _rollback(elements: list[Element], prose: _Prose) -> Node:
    fields: dict[str, Any] = {}
    when = {**prose.rollback_when}
    for element in elements:
        for metric, condition in element.data.get("when", {}).items():
            when.setdefault(metric, condition)
    if when:
        fields["when"] = when
    if elements:
        return elements[0].node(fields)
    return Node(fields)


def _policy(element: Element, elements: Elements) -> Node:
    data = {k: v for k, v in element.data.items() if k not in ("todo", "gate_families")}
    if element.section == "approvals":
        data = {"roles": data.get("roles", []), "distinct_people": True, "self_approval": False}
    families = element.data.get("gate_families")
    if families:
        gates = elements.of("gates", PRODUCTION)
        data["gates"] = [e.data["id"] for e in gates if e.family in families]
    return element.node(data)


def _confirmations(elements: Elements) -> list[Node]:
    """One confirmation per role, section and phase: its items are the list it signs."""
    groups: dict[tuple[Any, ...], list[Element]] = {}
    for element in elements.of("confirmation"):
        item, data = element.items[0], element.data
        section = item.headings[-1] if item.headings else ""  # the section, not the parent
        key = (section, tuple(data["by"]), data["phase"], data.get("required", True),
               tuple(data.get("environments", ())), tuple(data.get("kinds", ())))
        groups.setdefault(key, []).append(element)
    used: set[str] = set()
    nodes: list[Node] = []
    for (section, by, *_), members in groups.items():
        if len(members) == 1:
            element = members[0]
            name = _unique(_item_name(element.items[0].id.split("/"), used), used)
            nodes.append(element.node({"id": name, **element.data}))
            continue
        items = [i for m in members for i in m.items]
        title = re.sub(r"[^\w ()&/,.:-]+", "", section).strip() or "Checklist"
        segments = [*_section_path(items[0]), by[0]]
        name = _unique(_item_name(segments, used, shortest=2), used)
        data = {**members[0].data, "text": f"{title}: {len(items)} items"}
        nodes.append(Node({"id": name, **data, "checklist": [i.id for i in items]},
                          comment=[f"line {i.line}: {i.text}" for i in items]))
    return nodes


def _section_path(item: ChecklistItem) -> list[str]:
    return [slugify(h) for h in item.headings if slugify(h)][-2:] or ["checklist"]


def _item_name(segments: list[str], used: set[str], *, shortest: int = 1) -> str:
    name = ""
    for size in range(min(shortest, len(segments)), len(segments) + 1):
        name = ".".join(segments[-size:])[:128].strip(".-")
        if name not in used:
            break
    return name


def _unique(name: str, used: set[str]) -> str:
    base, n = name, 1
    while name in used:
        n += 1
        name = f"{base[:120]}-{n}"
    used.add(name)
    return name


def _users(elements: Elements, confirmations: list[Node]) -> Node:
    roles: list[str] = []
    for node in confirmations:
        roles += [r for r in node.get("by", []) if r not in roles]
    for element in elements.by_key.values():
        if element.section == "approvals":
            roles += [r for r in element.data.get("roles", []) if r not in roles]
    users = Node(comment=["Who holds which roles (`releasegate --as NAME`). TODO: your people."])
    for role in sorted(set(roles) | {"devops", "on-call"}):
        users[f"{slugify(role)}-person"] = {"roles": _USERS.get(role, [role])}
    return users

