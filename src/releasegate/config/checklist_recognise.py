"""The ordered rules that recognise checklist items, gates first, then the fallback.

See :mod:`releasegate.config.checklist_rules` for the parts they produce.
"""

from __future__ import annotations

import re
from typing import Any

from releasegate.config import checklist_rules as rules
from releasegate.config import checklist_text as words
from releasegate.config.checklist import ChecklistItem, slugify
from releasegate.config.checklist_rules import Context, Part, Rule, environments

_PLACEHOLDER = {"tests": ["make", "test"], "lint": ["make", "lint"], "typecheck": ["make", "typecheck"]}


def _has(pattern: str, text: str) -> bool:
    return re.search(pattern, text, re.IGNORECASE) is not None


def _gate(item: ChecklistItem, key: str, uses: str, options: dict[str, Any], *,
          family: str, attach: bool = False, todo: bool = False) -> Part:
    data: dict[str, Any] = {"id": key, "uses": uses, "with": options}
    if todo:
        data["todo"] = True
    return Part("gates", environments(item), key, item, data, family=family, attach=attach)


def _backup_verify(item: ChecklistItem, ctx: Context) -> list[Part] | None:
    if not _has(r"backup.*(integrity|verif|restor)|verify.*backup|restore.*test", item.title):
        return None
    everything = words.words_of(item) + " " + " ".join(item.code).lower()
    options: dict[str, Any] = {"max_age": words.duration("24", "h")}
    if "restore" in everything:
        options["restore_dry_run"] = True
    return [_gate(item, "backup-fresh", "backup-verify", options, family="backup")]


def _env_present(item: ChecklistItem, ctx: Context) -> list[Part] | None:
    pattern = r"environment (configuration|variables?)|\benv(ironment)? vars?\b|secrets? configured"
    if not _has(pattern, item.title):
        return None
    names = words.env_names(item)
    return [_gate(item, "env-present", "env-present", {"names": names or ["DATABASE_URL"]},
                  family="config", todo=not names)]


def _security(item: ChecklistItem, ctx: Context) -> list[Part] | None:
    text = words.words_of(item)
    if not _has(r"security scan|audit|vulnerab|snyk|owasp", item.title):
        return None
    pip = _has(r"\bpip\b|python|poetry", text)
    run = ["pip-audit", "--format", "json"] if pip else ["npm", "audit", "--json"]
    # A dependency audit proves "no vulnerable dependencies", not a scan by another tool.
    other_tool = _has(r"snyk|container|image|trivy|sonar|dast|penetration|pen[- ]?test|zap", text)
    proven = not other_tool and _has(r"npm audit|pip-audit|dependenc|vulnerab", text)
    recap = _has(r"^security scans? (are )?(clear|pass|passed|passing|completed?|green)\W*$", item.title)
    parts = [_gate(item, "dependency-audit" if proven or recap else slugify(item.title)[:40] or "scan",
                   "dependency-audit", {"run": run}, family="security", todo=not proven,
                   attach=recap)]
    if "secret" in text:
        parts.append(_gate(item, "secret-scan", "secret-scan", {}, family="security"))
    return parts


def _secret_scan(item: ChecklistItem, ctx: Context) -> list[Part] | None:
    if not _has(r"secrets? scan|secrets? detected|no secrets", item.title):
        return None
    return [_gate(item, "secret-scan", "secret-scan", {}, family="security")]


def _changelog(item: ChecklistItem, ctx: Context) -> list[Part] | None:
    text = words.words_of(item)
    if not _has(r"changelog|release notes|documentation", item.title + " " + text):
        return None
    # The changelog driver proves the changelog has the version: only what the title says
    # about the changelog. Documentation that mentions one is a suggestion; other
    # documentation and release notes are for a person to sign.
    proven = _has(r"change ?log", item.title)
    if not proven and not (_has(r"change ?log", text) and _has(r"documentation|release notes", item.title)):
        return None
    found = re.search(r"[\w./-]*changelog[\w.]*", " ".join([item.text, *item.details]), re.I)
    key = "changelog" if proven else slugify(item.title)[:40] or "changelog"
    return [_gate(item, key, "changelog", {"file": found.group(0) if found else "CHANGELOG.md"},
                  family="docs", todo=not proven)]


def _commands(kind: str, pattern: str) -> Rule:
    def rule(item: ChecklistItem, ctx: Context) -> list[Part] | None:
        if not _has(pattern, item.title):
            return None
        found = words.inline_commands(item) or [words.Command(argv) for argv in words.code_commands(item)]
        if found:
            return [_gate(item, c.step_id, "command", {"run": c.argv}, family=kind) for c in found]
        if kind == "tests" and _has(r"^(all )?tests? (are )?(pass|passing|passed|green)\W*$", item.title):
            # "Tests passing" as such is what the document's test gates prove together.
            return [_gate(item, kind, "command", {"run": _PLACEHOLDER[kind]}, family=kind,
                          attach=True, todo=True)]
        # Nothing in the item says how it is proven: suggest a step, claim nothing.
        key = slugify(item.title)[:40] or kind
        return [_gate(item, key, "command", {"run": _PLACEHOLDER[kind]}, family=kind, todo=True)]

    return rule


def _curl(item: ChecklistItem, ctx: Context) -> list[Part] | None:
    paths = words.url_paths(item)
    if not paths or not any(argv[0] == "curl" for argv in words.code_commands(item)):
        return None
    key = slugify(item.title) or "http-check"
    return [_gate(item, key, "http-check", {"paths": paths}, family="http")]


RULES: list[Rule] = [
    *rules.POLICY_RULES,
    _backup_verify,
    *rules.STEP_RULES,
    _env_present,
    _security,
    _secret_scan,
    _changelog,
    _commands("lint", r"\blint"),
    _commands("typecheck", r"type[- ]?check"),
    _commands("tests", r"\btests?\b.*\b(pass|passing|passed|green)\b|^run (the |all )?tests"),
    _curl,
]


# Rules that make a gate: never for an item that belongs after the release or elsewhere.
_GATE_RULES = [*RULES[len(rules.POLICY_RULES) + 1 + len(rules.STEP_RULES):], _backup_verify]
_RELEASE = rules.DEPLOY_ORDER["release"]
_NO_GATES = {"verify", "rollback-trigger", "rollback", "periodic", "communication"}


def _before_release(part: Part) -> bool:
    rolls_back = part.data.get("on_failure") == "rollback"  # its failure is the trigger
    return part.section == "deploy" and part.order <= _RELEASE and not rolls_back


def recognise(item: ChecklistItem, ctx: Context) -> list[Part]:
    """The parts of a config that cover ``item``: the first matching rule's, else a
    confirmation. Items that belong after the release (or outside it) never become gates."""
    after = ctx.kind(item) in _NO_GATES
    for rule in RULES:
        if rule in _GATE_RULES and after:
            continue
        parts = rule(item, ctx)
        # A step before the release proves "migrations applied" after it too, but not what
        # only happens after (a post-deployment backup) or outside it.
        if after and ctx.kind(item) != "verify" and any(_before_release(p) for p in parts or ()):
            continue
        if parts:
            return parts
    return rules.confirmation(item, ctx)
