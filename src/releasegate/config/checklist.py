"""Markdown checklists: their items, with stable human-readable ids.

Any markdown checklist is read: ``- [ ]``, ``- [x]``, ``* [ ]``, ``+ [ ]`` and ``1. [ ]``
items, nested at any depth, under ATX headings (``#`` … ``######``). Lines inside code
fences are never items (nor headings). Each item gets an id built from the slugs of its
headings and its own text::

    pre-deployment/code-quality-testing/all-tests-passing
    production-deployment/pre-deployment-production-specific/team-assembled/qa-engineer

* headings: every level from ``##`` down; a lone ``#`` is the document's title and is
  left out (when a document has several ``#`` headings, they are kept);
* the item's text is its leading bold part when it starts with one (``**All tests
  passing** (for major releases)`` → ``All tests passing``), else its whole text, with a
  leading step number (``1.``, ``2)``) stripped;
* a nested item's id is its parent's id, ``/``, its own slug;
* an id seen before in the same document gets ``-2``, ``-3``, … appended.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from releasegate.config.files import UnreadableFile, read_regular_file
from releasegate.errors import ConfigError

SLUG_MAX = 40

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})")
_ITEM = re.compile(r"^(\s*)(?:[-*+]|\d{1,9}[.)])[ \t]+\[([ xX])\](?:[ \t]+(.*?))?[ \t]*$")
_BULLET = re.compile(r"^(\s*)(?:[-*+]|\d{1,9}[.)])[ \t]+(.*?)[ \t]*$")
_LEADING_BOLD = re.compile(r"^(\*\*|__)(.+?)\1")
_LABEL = re.compile(r"^(?:\*\*|__)(.+?)(?:\*\*|__)\s*:?\s*$")
_STEP_NUMBER = re.compile(r"^\s*(?:step\s+)?\d+(?:\.\d+)*[.):]?\s+", re.IGNORECASE)
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_URL = re.compile(r"\bhttps?://\S+")
_NON_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass
class ChecklistItem:
    """One checkbox of a markdown checklist."""

    id: str
    text: str
    """The item's full text as written (markdown kept)."""
    title: str
    """The text its slug is made of: the leading bold part, step number stripped."""
    line: int
    """1-based line of the checkbox in the file."""
    headings: tuple[str, ...]
    """The titles of the headings it sits under, outermost first (the title included)."""
    checked: bool = False
    indent: int = 0
    parent: str | None = None
    children: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    """Its sub-bullets and paragraph lines (not checkboxes, not code), markdown kept."""
    code: list[str] = field(default_factory=list)
    """The lines of the code blocks inside it."""
    label: str | None = None
    """The bold label (``**Critical User Flows**:``) above it inside its parent, if any."""
    section: str | None = None
    """A bold line standing as a heading above it (``**Before release**:``), if any: not
    part of its id, but it says where the item belongs."""

    @property
    def slug(self) -> str:
        """The last segment of its id."""
        return self.id.rsplit("/", 1)[-1]


@dataclass
class Checklist:
    """The items of one markdown document, in document order."""

    source: str
    items: list[ChecklistItem]

    def __post_init__(self) -> None:
        self._by_id = {item.id: item for item in self.items}

    def get(self, item_id: str) -> ChecklistItem | None:
        """The item with this id, or ``None``."""
        return self._by_id.get(item_id)

    def __getitem__(self, item_id: str) -> ChecklistItem:
        return self._by_id[item_id]

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._by_id

    def __len__(self) -> int:
        return len(self.items)

    @property
    def ids(self) -> list[str]:
        """Every item's id, in document order."""
        return [item.id for item in self.items]

    def children_of(self, item: ChecklistItem) -> list[ChecklistItem]:
        """The items nested directly under ``item``."""
        return [self._by_id[child] for child in item.children]


def slugify(text: str, *, max_length: int = SLUG_MAX) -> str:
    """``"Code Quality & Testing"`` → ``"code-quality-testing"``; cut at a word boundary."""
    text = _LINK.sub(r"\1", text)
    text = _URL.sub(" ", text)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _NON_SLUG.sub("-", ascii_text.lower()).strip("-")
    if len(slug) > max_length:
        cut = slug.rfind("-", 0, max_length + 1)
        slug = slug[: cut if cut > 0 else max_length].strip("-")
    return slug


def item_title(text: str) -> str:
    """The part of an item's text its id is made of (see the module docstring)."""
    text = _STEP_NUMBER.sub("", text.strip(), count=1)
    bold = _LEADING_BOLD.match(text)
    if bold:
        text = _STEP_NUMBER.sub("", bold.group(2).strip(), count=1)
    return text.strip()


def load_checklist(path: Path) -> Checklist:
    """Read and parse the markdown checklist at ``path`` (a missing file is a ConfigError)."""
    return parse_checklist(read_checklist_text(path), source=str(path))


def read_checklist_text(path: Path) -> str:
    """The text of the checklist file at ``path`` (a regular file of bounded size, UTF-8),
    or a ConfigError saying why it cannot be read."""
    try:
        return read_regular_file(path).decode("utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"checklist not found: {path}") from exc
    except UnreadableFile as exc:
        raise ConfigError(f"cannot read checklist {path}: it {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read checklist {path}: {exc}") from exc


def parse_checklist(text: str, *, source: str = "<checklist>") -> Checklist:
    """Every checkbox item of a markdown document, with ids, nesting and details."""
    return _Parser(text.splitlines()).parse(source)


class _Parser:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.items: list[ChecklistItem] = []
        self.seen: set[str] = set()
        self.headings: dict[int, str] = {}
        self.stack: list[ChecklistItem] = []
        self.labels: dict[str, str] = {}  # item id -> the last bold label inside it
        self.section: str | None = None  # the last bold line outside items, as a heading
        self.keep_h1 = sum(1 for level, _ in self._headings() if level == 1) > 1

    def _headings(self) -> list[tuple[int, str]]:
        found: list[tuple[int, str]] = []
        fence: str | None = None
        for line in self.lines:
            fence = _toggle_fence(line, fence)
            match = _HEADING.match(line) if fence is None else None
            if match and not _FENCE.match(line):
                found.append((len(match.group(1)), match.group(2)))
        return found

    def parse(self, source: str) -> Checklist:
        fence: str | None = None
        for number, line in enumerate(self.lines, start=1):
            was_open = fence is not None
            fence = _toggle_fence(line, fence)
            if was_open or fence is not None:  # inside a fence, or its opening/closing line
                self._code(line, was_open=was_open, is_open=fence is not None)
                continue
            self._line(number, line)
        return Checklist(source=source, items=self.items)

    def _code(self, line: str, *, was_open: bool, is_open: bool) -> None:
        indent = _indent(line)
        if not was_open:  # the opening fence: it belongs to an item only if indented under it
            self._pop_while(lambda top: indent <= top.indent)
        if self.stack and was_open and is_open:
            self.stack[-1].code.append(line.strip())

    def _line(self, number: int, line: str) -> None:
        if not line.strip():
            return
        heading = _HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            self.headings = {k: v for k, v in self.headings.items() if k < level}
            self.headings[level] = heading.group(2).strip()
            self.stack.clear()
            self.section = None
            return
        indent = _indent(line)
        item = _ITEM.match(line)
        if item:
            self._pop_while(lambda top: top.indent >= indent)
            self._add(number, indent, item.group(3) or "", checked=item.group(2) != " ")
            return
        bullet = _BULLET.match(line)
        if bullet:
            self._pop_while(lambda top: top.indent >= indent)
        else:
            self._pop_while(lambda top: indent <= top.indent)
        if not self.stack and not bullet and indent == 0:
            label = _LABEL.match(line.strip())
            if label:
                self.section = label.group(1).strip().rstrip(":")
        if self.stack:
            owner = self.stack[-1]
            detail = bullet.group(2) if bullet else line.strip()
            owner.details.append(detail)
            label = _LABEL.match(detail)
            if label and not bullet:
                self.labels[owner.id] = label.group(1).strip().rstrip(":")

    def _pop_while(self, test: Callable[[ChecklistItem], bool]) -> None:
        while self.stack and test(self.stack[-1]):
            self.stack.pop()

    def _add(self, number: int, indent: int, text: str, *, checked: bool) -> None:
        parent = self.stack[-1] if self.stack else None
        title = item_title(text)
        slug = slugify(title) or "item"
        if parent is not None:
            prefix = parent.id
        else:
            first = 1 if self.keep_h1 else 2
            parts = [slugify(t) for level, t in sorted(self.headings.items()) if level >= first]
            prefix = "/".join(p for p in parts if p)
        base = f"{prefix}/{slug}" if prefix else slug
        item_id, n = base, 1
        while item_id in self.seen:
            n += 1
            item_id = f"{base}-{n}"
        self.seen.add(item_id)
        item = ChecklistItem(
            id=item_id,
            text=text,
            title=title,
            line=number,
            headings=tuple(t for _, t in sorted(self.headings.items())),
            checked=checked,
            indent=indent,
            parent=parent.id if parent else None,
            label=self.labels.get(parent.id) if parent else None,
            section=self.section,
        )
        if parent is not None:
            parent.children.append(item_id)
        self.items.append(item)
        self.stack.append(item)


def _indent(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip(" "))


def _toggle_fence(line: str, fence: str | None) -> str | None:
    """The open fence marker after ``line`` (``None`` outside any code block)."""
    match = _FENCE.match(line)
    if fence is None:
        return match.group(2) if match else None
    if match and match.group(2)[0] == fence[0] and len(match.group(2)) >= len(fence):
        rest = line[match.end():].strip()
        if not rest:
            return None
    return fence
