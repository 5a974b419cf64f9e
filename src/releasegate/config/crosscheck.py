"""Checks that span more than one value: drivers and their options, ``needs``, step ids,
``promote_from``, freezes, windows, calendars, ``if`` expressions and secret references.

Each environment and calendar that is valid on its own is checked even when another part
of the file is not, so one run reports every problem.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from releasegate.config.document import Document, KeyPath, dotted
from releasegate.config.expressions import compile_condition
from releasegate.config.identity_check import identity_problems
from releasegate.config.models import Calendar, Config, Environment, Step, TargetRef, Window
from releasegate.config.secrets import references_in
from releasegate.config.timespec import did_you_mean, parse_days, parse_hours, parse_tz
from releasegate.config.validation import translate
from releasegate.drivers.api import DriverKind, Registry, UnknownDriver
from releasegate.errors import Problem

M = TypeVar("M", bound=BaseModel)

BUILTIN_FREEZES = ("incidents", "campaigns")
TARGET_STEP = "target"
"""``uses: target`` deploys with the environment's target."""


def crosscheck(doc: Document, config: Config | None, registry: Registry) -> list[Problem]:
    """Every cross-reference problem in the file, located."""
    env_names = _names(doc, "environments")
    calendar_names = _names(doc, "calendars")
    problems: list[Problem] = []
    for name in env_names:
        env = (
            config.environments[name]
            if config
            else _valid(Environment, doc.get(("environments", name)))
        )
        pieces = _Pieces.of(env) if env else _Pieces.salvage(doc.get(("environments", name)))
        checker = _EnvironmentCheck(doc, ("environments", name), registry)
        problems.extend(checker.run(pieces, env_names, calendar_names))
    calendars = config.calendars if config else _each(doc, "calendars", Calendar)
    for name, calendar in calendars.items():
        problems.extend(_calendar(doc, ("calendars", name), calendar))
    for path, text in _strings(doc.data, ()):
        if "${" in text:
            try:
                references_in(text)
            except ValueError as exc:
                problems.append(doc.problem(path, str(exc)))
    problems.extend(identity_problems(doc, config))
    return problems


def _valid(model: type[M], raw: object) -> M | None:
    try:
        return model.model_validate(raw)
    except ValidationError:  # reported by the validation of the whole file
        return None


@dataclass
class _Pieces:
    """What the checks need of one environment: from its model, or salvaged piece by
    piece from an environment that does not validate as a whole."""

    steps: list[tuple[KeyPath, Step]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    target: TargetRef | None = None
    promote_from: str | None = None
    freezes: list[str] = field(default_factory=list)
    windows: list[tuple[KeyPath, Window]] = field(default_factory=list)

    @classmethod
    def of(cls, env: Environment) -> _Pieces:
        steps: list[tuple[KeyPath, Step]] = [
            ((phase, i), step)
            for phase in ("gates", "deploy", "post")
            for i, step in enumerate(getattr(env, phase))
        ]
        steps += [(("rollback", "steps", i), s) for i, s in enumerate(env.rollback.steps)]
        windows: list[tuple[KeyPath, Window]] = []
        if isinstance(env.window, list):
            windows = [(("window", j), w) for j, w in enumerate(env.window)]
        elif env.window is not None:
            windows = [(("window",), env.window)]
        return cls(
            steps,
            [s.id for _, s in steps],
            env.target,
            env.promote_from,
            list(env.freezes),
            windows,
        )

    @classmethod
    def salvage(cls, raw: object) -> _Pieces:
        found = cls()
        if not isinstance(raw, dict):
            return found
        rollback = raw.get("rollback")
        lists: list[tuple[KeyPath, object]] = [
            ((phase,), raw.get(phase)) for phase in ("gates", "deploy", "post")
        ]
        lists.append(
            (("rollback", "steps"), rollback.get("steps") if isinstance(rollback, dict) else None)
        )
        for where, items in lists:
            for i, item in enumerate(items if isinstance(items, list) else []):
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    found.ids.append(item["id"])
                step = _valid(Step, item)
                if step is not None:
                    found.steps.append(((*where, i), step))
        found.target = _valid(TargetRef, raw.get("target"))
        promote_from = raw.get("promote_from")
        found.promote_from = promote_from if isinstance(promote_from, str) else None
        freezes = raw.get("freezes")
        freezes = [freezes] if isinstance(freezes, str) else freezes
        found.freezes = (
            [f for f in freezes if isinstance(f, str)] if isinstance(freezes, list) else []
        )
        window = raw.get("window")
        candidates: list[tuple[KeyPath, object]] = (
            [((), window)]
            if not isinstance(window, list)
            else [((j,), w) for j, w in enumerate(window)]
        )
        for where, item in candidates:
            valid = _valid(Window, item)
            if valid is not None:
                found.windows.append((("window", *where), valid))
        return found


def _names(doc: Document, key: str) -> list[str]:
    found = doc.get((key,))
    return [str(k) for k in found] if isinstance(found, dict) else []


def _each(doc: Document, key: str, model: type[M]) -> dict[str, M]:
    found = doc.get((key,))
    valid: dict[str, M] = {}
    if isinstance(found, dict):
        for name, raw in found.items():
            item = _valid(model, raw)
            if item is not None:
                valid[name] = item
    return valid


def _strings(value: object, path: KeyPath) -> Iterator[tuple[KeyPath, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, (*path, i))


def _item(doc: Document, path: KeyPath, index: int) -> KeyPath:
    """The path of a list item, or of the list itself when a single string stood for it."""
    return (*path, index) if doc.has((*path, index)) else path


class _EnvironmentCheck:
    def __init__(self, doc: Document, path: KeyPath, registry: Registry) -> None:
        self.doc, self.path, self.registry = doc, path, registry
        self.name = str(path[-1])
        self.problems: list[Problem] = []

    def add(self, path: KeyPath, message: str, *, key: bool = False) -> None:
        self.problems.append(self.doc.problem(path, message, key=key))

    def run(self, env: _Pieces, env_names: list[str], calendars: list[str]) -> list[Problem]:
        steps = [((*self.path, *where), step) for where, step in env.steps]
        self._ids_and_drivers(steps)
        self._needs(steps, env.ids)
        if env.target is not None:
            self._driver((*self.path, "target"), "target", env.target.uses, env.target.with_)
        if env.promote_from is not None:
            where = (*self.path, "promote_from")
            if env.promote_from == self.name:
                self.add(where, "an environment cannot promote from itself")
            elif env.promote_from not in env_names:
                hint = did_you_mean(env.promote_from, env_names)
                self.add(where, f"{env.promote_from!r} is no environment{hint}")
        known = [*calendars, *BUILTIN_FREEZES]
        for i, freeze in enumerate(env.freezes):
            if freeze not in known:
                self.add(
                    _item(self.doc, (*self.path, "freezes"), i),
                    f"{freeze!r} is neither a calendar nor a built-in freeze "
                    f"(incidents, campaigns){did_you_mean(freeze, known)}",
                )
        for where, window in env.windows:
            self._window((*self.path, *where), window)
        return self.problems

    def _ids_and_drivers(self, steps: list[tuple[KeyPath, Step]]) -> None:
        first: dict[str, KeyPath] = {}
        for path, step in steps:
            if step.id in first:
                self.add(
                    (*path, "id"),
                    f"duplicate step id {step.id!r} "
                    f"(also at {dotted(first[step.id])}): ids are unique within an environment",
                )
            else:
                first[step.id] = path
            if step.uses != TARGET_STEP:
                self._driver(path, "step", step.uses, step.with_)
            if step.if_ is not None:
                try:
                    compile_condition(step.if_)
                except ValueError as exc:
                    self.add((*path, "if"), str(exc))

    def _driver(self, path: KeyPath, kind: DriverKind, name: str, options: object) -> None:
        try:
            cls = self.registry.get(kind, name)
        except UnknownDriver as exc:
            hint = did_you_mean(name, exc.known)
            if not hint:
                hint = (
                    f" (no {kind} drivers are installed)"
                    if not exc.known
                    else (f" (known: {', '.join(exc.known)})" if len(exc.known) <= 12 else "")
                )
            self.add((*path, "uses"), f"unknown {kind} driver {name!r}{hint}")
            return
        try:
            cls.Options.model_validate(options)
        except ValidationError as exc:
            self.problems.extend(translate(exc, self.doc, cls.Options, (*path, "with")))

    def _needs(self, steps: list[tuple[KeyPath, Step]], ids: list[str]) -> None:
        graph: dict[str, list[str]] = {}
        where: dict[str, KeyPath] = {}
        for path, step in steps:
            where.setdefault(step.id, path)
            for i, need in enumerate(step.needs):
                if need not in ids:
                    self.add(
                        _item(self.doc, (*path, "needs"), i),
                        f"{need!r} is no step of environment {self.name!r}{did_you_mean(need, ids)}",
                    )
                else:
                    graph.setdefault(step.id, []).append(need)
        for cycle in _cycles(graph):
            self.add(
                (*where[cycle[0]], "needs"),
                f"steps need each other in a cycle: {' -> '.join(cycle)}",
            )

    def _window(self, path: KeyPath, window: Window) -> None:
        for i, spec in enumerate(window.days):
            try:
                parse_days([spec])
            except ValueError as exc:
                self.add(_item(self.doc, (*path, "days"), i), str(exc))
        good = True
        for i, spec in enumerate(window.hours):
            try:
                parse_hours([spec])
            except ValueError as exc:
                good = False
                self.add(_item(self.doc, (*path, "hours"), i), str(exc))
        if good:
            try:
                parse_hours(window.hours)
            except ValueError as exc:
                self.add((*path, "hours"), str(exc))
        try:
            parse_tz(window.tz)
        except ValueError as exc:
            self.add((*path, "tz"), str(exc))


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Each cycle once, as ``[a, b, a]``, found by depth-first search."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                found.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node)
    return found


def _calendar(doc: Document, path: KeyPath, calendar: Calendar) -> list[Problem]:
    problems: list[Problem] = []
    try:
        parse_tz(calendar.tz)
    except ValueError as exc:
        problems.append(doc.problem((*path, "tz"), str(exc)))
    source = calendar.holidays
    if source is None:
        return problems
    where = (*path, "holidays")
    codes = _country_codes()
    if source.country not in codes:
        hint = did_you_mean(source.country.upper(), codes)
        problems.append(
            doc.problem(
                (*where, "country"),
                f"{source.country!r} is not a country the holidays package knows{hint}",
            )
        )
        return problems
    if source.subdiv is None and set(source.categories) <= {"public"}:
        return problems  # every country has public holidays: no need to load its module
    import holidays  # 50-100 ms: only when a calendar uses it, and one country's module

    country = type(holidays.country_holidays(source.country))
    subdivisions = [*country.subdivisions, *getattr(country, "subdivisions_aliases", {})]
    if source.subdiv is not None and source.subdiv not in subdivisions:
        hint = did_you_mean(source.subdiv.upper(), list(country.subdivisions))
        problems.append(
            doc.problem(
                (*where, "subdiv"),
                f"{source.subdiv!r} is not a subdivision of {source.country}{hint}",
            )
        )
    categories = list(country.supported_categories)
    for i, category in enumerate(source.categories):
        if category not in categories:
            problems.append(
                doc.problem(
                    _item(doc, (*where, "categories"), i),
                    f"{category!r} is not a holiday category of {source.country} "
                    f"(known: {', '.join(categories)}){did_you_mean(category, categories)}",
                )
            )
    return problems


def _country_codes() -> list[str]:
    """The codes the holidays package knows, read from its registry: importing every
    country module (``list_supported_countries``) would take 150 ms."""
    try:
        from holidays.registry import COUNTRIES
    except ImportError:  # a future holidays without that registry: the slow, public way
        from holidays import list_supported_countries

        return list(list_supported_countries())
    return [
        code
        for entry in COUNTRIES.values()
        for code in entry[1:]
        if isinstance(code, str) and code.isupper() and len(code) in (2, 3)
    ]
