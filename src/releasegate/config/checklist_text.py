"""What can be read off a checklist item's words: commands, URLs, durations, thresholds, roles.

Used by :mod:`releasegate.config.checklist_rules` to fill the placeholders of the config
that ``releasegate init --from-checklist`` writes.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from releasegate.config.checklist import ChecklistItem, slugify

_SPAN = re.compile(r"`([^`]+)`")
_PROGRAM = re.compile(r"^[\w./-]+$")
_URL = re.compile(r"https?://[^\s\"'<>`)]+")
_UNIT = r"(ms|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)"
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*" + _UNIT + r"\b", re.IGNORECASE)
_RANGE = re.compile(
    r"(\d+(?:\.\d+)?)\s*" + _UNIT + r"?\s*(?:-|–|to)\s*(\d+(?:\.\d+)?)\s*" + _UNIT + r"\b",
    re.IGNORECASE,
)
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_VERSION = re.compile(r"\d+\.\d+\.\d+")
_ENV_NAME = re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b")


@dataclass(frozen=True)
class Command:
    """A command found in an item: its argv and the label written before it, if any."""

    argv: list[str]
    label: str | None = None

    @property
    def step_id(self) -> str:
        """A step id for it: the label's slug (``Unit tests`` → ``unit-tests``) or the argv's."""
        if self.label:
            return slugify(self.label) or "command"
        words = [w for w in self.argv if not w.startswith("-")]
        return slugify(" ".join(words[-2:]) if words else "command") or "command"


def words_of(item: ChecklistItem) -> str:
    """The item's text and details, lower-case, as one string for matching."""
    return " ".join([item.text, *item.details]).lower()


def inline_commands(item: ChecklistItem) -> list[Command]:
    """Commands written as code spans in the item's text or details: ``npm run lint``."""
    found: list[Command] = []
    for line in [item.text, *item.details]:
        for match in _SPAN.finditer(line):
            argv = _split(match.group(1))
            if len(argv) < 2 or not _PROGRAM.match(argv[0]):
                continue
            label = line[: match.start()].strip().rstrip(":").strip("*_ ").strip() or None
            found.append(Command(argv=argv, label=label))
    return found


def code_commands(item: ChecklistItem) -> list[list[str]]:
    """The commands of the item's code blocks, comments and blank lines left out."""
    commands: list[list[str]] = []
    for line in item.code:
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        argv = _split(text)
        if argv:
            commands.append(argv)
    return commands


def command_with(item: ChecklistItem, *words: str) -> list[str] | None:
    """The first command of the item (code block or span) containing every word."""
    candidates = code_commands(item) + [c.argv for c in inline_commands(item)]
    for argv in candidates:
        joined = " ".join(argv).lower()
        if all(w in joined for w in words):
            return argv
    return None


def urls(item: ChecklistItem) -> list[str]:
    """Every URL in the item's code blocks (``curl https://…/monitoring/health``)."""
    return [m.group(0).rstrip(".,;") for line in item.code for m in _URL.finditer(line)]


def url_paths(item: ChecklistItem) -> list[str]:
    """The distinct paths of the item's URLs, in order."""
    paths: list[str] = []
    for url in urls(item):
        path = urlsplit(url).path or "/"
        if path not in paths:
            paths.append(path)
    return paths


def base_urls(item: ChecklistItem) -> list[str]:
    """``scheme://host`` of each URL in the item's code."""
    return [f"{p.scheme}://{p.netloc}" for p in map(urlsplit, urls(item))]


def env_names(item: ChecklistItem) -> list[str]:
    """``UPPER_SNAKE`` names in the item's code spans and blocks (likely environment vars)."""
    spans = [m.group(1) for line in [item.text, *item.details] for m in _SPAN.finditer(line)]
    names: list[str] = []
    for text in spans + item.code:
        for name in _ENV_NAME.findall(text):
            if name not in names:
                names.append(name)
    return names


def tag_template(argv: list[str]) -> str | None:
    """``git tag -a v1.2.0-staging …`` → ``v{version}-staging``."""
    for word in argv:
        if _VERSION.search(word) and not word.startswith("-"):
            return _VERSION.sub("{version}", word, count=1)
    return None


def duration(amount: str, unit: str) -> timedelta:
    """``("2", "hours")`` → two hours."""
    key = unit.lower()
    short = "ms" if key == "ms" else key[0]
    return timedelta(seconds=float(amount) * _SECONDS[short])


def durations(text: str) -> list[timedelta]:
    """Every amount of time written in ``text``: ``15 minutes``, ``2 hours``, ``30min``."""
    return [duration(m.group(1), m.group(2)) for m in _AMOUNT.finditer(text)]


def time_range(text: str) -> tuple[timedelta, timedelta] | None:
    """``0-5 minutes`` → (0, 5m); ``30min - 2 hours`` → (30m, 2h)."""
    match = _RANGE.search(text)
    if not match:
        return None
    start_unit = match.group(2) or match.group(4)
    return duration(match.group(1), start_unit), duration(match.group(3), match.group(4))


_THRESHOLDS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"error rates?\s*([<>]=?)\s*(\d+(?:\.\d+)?\s*%)", re.I), "error_rate", "{0} {1}"),
    (re.compile(r"\bp(50|90|95|99)\b[^<>\n]*?([<>]=?)\s*(\d+\s*(?:ms|s))\b", re.I), "p{0}", "{1} {2}"),
    (re.compile(r"response times?\s*([<>]=?)\s*(\d+\s*(?:ms|s))\b", re.I), "p95", "{0} {1}"),
    (re.compile(r"response times?\s*>\s*(\d+(?:\.\d+)?)\s*x\s*normal", re.I), "p95", "> {0}x baseline"),
]


def thresholds(lines: list[str]) -> dict[str, str]:
    """Metric conditions written in the lines: ``P95 response time < 500ms`` → p95: < 500ms."""
    found: dict[str, str] = {}
    for line in lines:
        for pattern, metric, template in _THRESHOLDS:
            match = pattern.search(line)
            if not match:
                continue
            groups = [g.replace(" ", "") for g in match.groups()]
            if metric.startswith("p{"):
                name, value = metric.format(groups[0]), template.format(*groups)
            else:
                name, value = metric, template.format(*groups)
            found.setdefault(name, value)
            break
    return found


# Roles a confirmation is offered to, guessed from its words: first match wins, the item's
# own text before its parent's and its details.
_ROLE_WORDS: list[tuple[str, re.Pattern[str]]] = [
    ("on-call", re.compile(r"on-?call|incident|support", re.I)),
    ("qa", re.compile(r"\bqa\b|\btest|browser|mobile|responsive|compatib|edge case|issues found", re.I)),
    ("product-owner", re.compile(r"product|customer|stakeholder", re.I)),
    ("backend", re.compile(r"backend|migration|feature flag|\bapi\b|branch|minimal fix|merge", re.I)),
    ("tech-lead", re.compile(r"review|approv|post-?mortem|lead|senior|plan\b", re.I)),
    ("devops", re.compile(r"devops|infra|resource|monitor|log|backup|deploy|cpu|memory|server|"
                          r"balancer|redis|notif|announce|status page|runbook", re.I)),
]


def guess_role(item: ChecklistItem, parent: ChecklistItem | None) -> str:
    """The role most likely to sign this item (devops when nothing says otherwise)."""
    texts = [item.title, parent.title if parent else "", " ".join(item.details)]
    for text in texts:
        for role, pattern in _ROLE_WORDS:
            if text and pattern.search(text):
                return role
    return "devops"


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text, comments=True)
    except ValueError:
        return text.split()
