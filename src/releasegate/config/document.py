"""A YAML document as plain data, with the line and column of every key and value."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent, Event
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver

from releasegate.errors import ConfigError, Location, Problem

KeyPath = tuple[str | int, ...]
Mark = tuple[int, int]

_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_STANDARD = "tag:yaml.org,2002:"
_MAX_DEPTH = 64
_MAX_NODES = 500_000
MAX_KEYS = 10_000
"""Keys in one mapping."""
MAX_KEY_LENGTH = 256
"""Characters in one key."""


def dotted(path: KeyPath) -> str:
    """``("environments", "prod", "gates", 0)`` → ``environments.prod.gates[0]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class Document:
    """Plain data (dicts, lists, str, int, float, bool, None; dates as ISO strings)."""

    file: str
    data: object = None
    keys: dict[KeyPath, Mark] = field(default_factory=dict)
    values: dict[KeyPath, Mark] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    broken: set[KeyPath] = field(default_factory=set)
    """Values already reported as unreadable (their model errors would repeat it)."""

    def at(self, path: KeyPath, *, key: bool = False) -> Location:
        """Where the value (or, with ``key``, the key) at ``path`` is; else its nearest parent."""
        while True:
            found = (self.keys.get(path) if key else None) or self.values.get(path)
            if found:
                return Location(self.file, *found)
            if not path:
                return Location(self.file, 1, 1)
            path, key = path[:-1], False

    def get(self, path: KeyPath) -> object:
        """The value at ``path``, or None."""
        value = self.data
        for part in path:
            found, value = child(value, part)
            if not found:
                return None
        return value

    def has(self, path: KeyPath) -> bool:
        """Whether ``path`` is written in the file."""
        return path in self.values

    def problem(self, path: KeyPath, message: str, *, key: bool = False) -> Problem:
        """A problem about the value at ``path``, located."""
        return Problem(message, dotted(path), self.at(path, key=key))


def child(value: object, part: str | int) -> tuple[bool, object]:
    """``(True, value[part])`` if ``value`` has that key or index, else ``(False, None)``."""
    if isinstance(value, dict):
        return (True, value[part]) if part in value else (False, None)
    if isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
        return True, value[part]
    return False, None


def read_document(text: str, file: str) -> Document:
    """Parse one YAML document; a YAML syntax error is a ConfigError with its position."""
    try:
        _check_depth(text, file)
        yaml, root = _compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        message = " ".join(str(p) for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise ConfigError([Problem(f"invalid YAML: {message}", location=where)]) from None
    except YAMLError as exc:  # the reader's errors: control characters and the like
        reason = getattr(exc, "reason", None) or "cannot be read"
        position = getattr(exc, "position", None)
        where = _offset(text, position, file) if isinstance(position, int) else Location(file)
        raise ConfigError([Problem(f"invalid YAML: {reason}", location=where)]) from None
    doc = Document(file)
    if root is not None:
        doc.data = _Builder(doc, yaml).build(root, (), 0)
    return doc


def _check_depth(text: str, file: str) -> None:
    """Refuse a document nested deeper than the builder accepts, before it is composed:
    the composers recurse once per level, and libyaml's (C) overflows the stack on
    100,000 nested ``[`` (a segfault). Parsing into events is iterative in both parsers."""
    depth = 0
    for event in _events(text):
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > _MAX_DEPTH:
                mark = event.start_mark
                where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
                raise ConfigError(
                    [Problem(f"nests deeper than {_MAX_DEPTH} levels", location=where)]
                )
        elif isinstance(event, CollectionEndEvent):
            depth -= 1


class _DocumentResolver(VersionedResolver):
    """ruamel's resolver, with the YAML version's implicit resolvers looked up once.

    The stock one finds the version being parsed (raising and catching AttributeError on
    the way) twice for every scalar: a third of composing a large config. A document's
    ``%YAML`` directive comes before its first node, so the first look-up holds for the
    whole document; each parse has its own ``YAML``, hence its own resolver.
    """

    _found: Any = None

    @property
    def versioned_resolver(self) -> Any:
        if self._found is None:
            self._found = super().versioned_resolver
        return self._found


def _yaml(*, pure: bool) -> YAML:
    yaml = YAML(typ="safe", pure=pure)
    yaml.Resolver = _DocumentResolver
    return yaml


@cache
def _has_libyaml() -> bool:
    return YAML(typ="safe", pure=False).Parser is not YAML(typ="safe", pure=True).Parser


def _events(text: str) -> Iterator[Event]:
    """The parser's events: libyaml's when installed, the pure parser's if it refuses."""
    if _has_libyaml():
        seen = 0
        try:
            for event in _yaml(pure=False).parse(text):
                seen += 1
                yield event
            return
        except YAMLError:
            pass
        for event in _yaml(pure=True).parse(text):
            seen -= 1
            if seen < 0:  # events the fast parser already gave are not given twice
                yield event
        return
    yield from _yaml(pure=True).parse(text)


def _compose(text: str) -> tuple[YAML, Node | None]:
    """libyaml's parser when installed (fast); the pure one is the judge of any error,
    since the bundled libyaml refuses some valid YAML 1.2 (``[test:unit]``)."""
    if _has_libyaml():
        fast = _yaml(pure=False)
        try:
            return fast, fast.compose(text)
        except YAMLError:
            pass
    pure = _yaml(pure=True)
    return pure, pure.compose(text)


def _offset(text: str, position: int, file: str) -> Location:
    before = text[:position]
    return Location(file, before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1)


def _mark(node: Node) -> Mark:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _tag(node: Node) -> str:
    tag = node.tag
    return tag if isinstance(tag, str) else str(getattr(tag, "value", tag))


class _Builder:
    """Turns the node tree into plain data, recording positions and soft problems."""

    def __init__(self, doc: Document, yaml: YAML) -> None:
        self.doc = doc
        self.constructor = yaml.constructor
        self.active: set[int] = set()
        self.count = 0

    def build(self, node: Node, path: KeyPath, depth: int) -> object:
        self.count += 1
        if self.count > _MAX_NODES:
            raise ConfigError(
                [
                    Problem(
                        f"has more than {_MAX_NODES} values (aliases that expand too far?)",
                        location=Location(self.doc.file, *_mark(node)),
                    )
                ]
            )
        self.doc.values.setdefault(path, _mark(node))
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if depth >= _MAX_DEPTH:
            return self._fail(path, node, f"nests deeper than {_MAX_DEPTH} levels")
        if id(node) in self.active:
            return self._fail(path, node, "an alias refers to a value that contains it")
        self.active.add(id(node))
        try:
            if isinstance(node, MappingNode) and _tag(node) == _MAP:
                return self._mapping(node, path, depth)
            if isinstance(node, SequenceNode) and _tag(node) == _SEQ:
                return [
                    self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)
                ]
            return self._fail(path, node, f"the YAML tag {_tag(node)!r} is not supported here")
        finally:
            self.active.discard(id(node))

    def _mapping(self, node: MappingNode, path: KeyPath, depth: int) -> dict[str, object]:
        out: dict[str, object] = {}
        merged: list[tuple[str, object]] = []
        for key_node, value_node in node.value:
            if len(out) >= MAX_KEYS:
                self._fail(path, node, f"has more than {MAX_KEYS} keys")
                break
            if isinstance(key_node, ScalarNode) and _tag(key_node) == _MERGE:
                merged.extend(self._merge(value_node, path, depth))
                continue
            if not isinstance(key_node, ScalarNode):
                self.doc.problems.append(
                    Problem(
                        "a key must be a plain name, not a list or mapping",
                        self._dotted(path),
                        Location(self.doc.file, *_mark(key_node)),
                    )
                )
                continue
            key = str(key_node.value)
            if len(key) > MAX_KEY_LENGTH:
                self.doc.problems.append(
                    Problem(
                        f"a key is longer than {MAX_KEY_LENGTH} characters ({key!r:.40}...)",
                        self._dotted(path),
                        Location(self.doc.file, *_mark(key_node)),
                    )
                )
                continue
            child = (*path, key)
            if key in out:
                first = self.doc.keys[child]
                self.doc.problems.append(
                    Problem(
                        f"duplicate key {key!r} (first written at line {first[0]})",
                        self._dotted(path),
                        Location(self.doc.file, *_mark(key_node)),
                    )
                )
                continue
            self.doc.keys[child] = _mark(key_node)
            out[key] = self.build(value_node, child, depth + 1)
        for key, value in merged:  # keys written in the mapping win over merged ones
            out.setdefault(key, value)
        return out

    def _merge(self, node: Node, path: KeyPath, depth: int) -> list[tuple[str, object]]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        found: list[tuple[str, object]] = []
        for source in sources:
            value = self.build(source, path, depth + 1)
            if isinstance(value, dict):
                found.extend(value.items())
            else:
                self._fail(path, source, "'<<' merges only mappings")
        return found

    def _scalar(self, node: ScalarNode, path: KeyPath) -> object:
        if not _tag(node).startswith(_STANDARD):
            return self._fail(path, node, f"the YAML tag {_tag(node)!r} is not supported here")
        try:
            value = self.constructor.construct_object(node, deep=True)
        except ValueError:
            if _tag(node).endswith(":timestamp"):  # 2025-02-30: the models say what is wrong
                return str(node.value)
            return self._fail(path, node, f"cannot read {node.value!r:.60}")
        except (YAMLError, TypeError, OverflowError) as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            return self._fail(path, node, f"cannot read {node.value!r:.60}: {problem}")
        if isinstance(value, datetime | date):
            return value.isoformat()
        if value is None or isinstance(value, str | bool | int | float):
            return value
        return self._fail(path, node, f"the YAML tag {_tag(node)!r} is not supported here")

    def _fail(self, path: KeyPath, node: Node, message: str) -> object:
        """Record a problem; the value becomes None."""
        self.doc.broken.add(path)
        self.doc.problems.append(
            Problem(message, self._dotted(path), Location(self.doc.file, *_mark(node)))
        )
        return None

    @staticmethod
    def _dotted(path: KeyPath) -> str:
        return dotted(path)
