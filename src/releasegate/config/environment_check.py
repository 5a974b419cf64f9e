"""The cross-checks of one environment: step ids, drivers and their options, ``uses:
target``, ``needs`` across phases, ``if`` expressions, promotion, freezes and windows.

Every problem is reported, each located; a step with several problems has them all.
"""

from __future__ import annotations

from pydantic import ValidationError

from releasegate.config.catalog import DriverCatalog, DriverKind
from releasegate.config.document import Document, KeyPath, dotted
from releasegate.config.expressions import compile_condition
from releasegate.config.parts import PHASES, EnvironmentParts, StepParts
from releasegate.config.timespec import did_you_mean, parse_days, parse_hours, parse_tz
from releasegate.config.validation import translate
from releasegate.errors import Problem

BUILTIN_FREEZES = ("incidents", "campaigns")
TARGET_STEP = "target"
"""``uses: target`` deploys with the environment's target."""
_ORDER = {phase: i for i, phase in enumerate(PHASES)}


def item_path(doc: Document, path: KeyPath, index: int) -> KeyPath:
    """The path of a list item, or of the list itself when a single string stood for it."""
    return (*path, index) if doc.has((*path, index)) else path


class EnvironmentCheck:
    """Checks one environment; :meth:`run` returns its problems."""

    def __init__(
        self,
        doc: Document,
        path: KeyPath,
        catalog: DriverCatalog | None,
        *,
        fast_track: frozenset[str] | None = None,
        signatures: dict[str, str] | None = None,
    ) -> None:
        self.doc, self.path, self.catalog = doc, path, catalog
        self.fast_track = fast_track
        """The gates the emergency fast track keeps (``emergency.gates``), if it names any."""
        self.signatures = signatures or {}
        """Ids of the steps a plan adds to wait for required confirmations → their item."""
        self.name = str(path[-1])
        self.problems: list[Problem] = []

    def add(self, path: KeyPath, message: str, *, key: bool = False) -> None:
        self.problems.append(self.doc.problem(path, message, key=key))

    def run(self, env: EnvironmentParts, env_names: list[str], calendars: list[str]) -> list[Problem]:
        self._ids(env.steps)
        for step in env.steps:
            self._step(step, env)
        self._needs(env.steps)
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
                    item_path(self.doc, (*self.path, "freezes"), i),
                    f"{freeze!r} is neither a calendar nor a built-in freeze "
                    f"(incidents, campaigns){did_you_mean(freeze, known)}",
                )
        for where, window in env.windows:
            self._window((*self.path, *where), window.days, window.hours, window.tz)
        return self.problems

    def _ids(self, steps: list[StepParts]) -> None:
        first: dict[str, KeyPath] = {}
        for step in steps:
            if step.id is None:
                continue
            if step.id in self.signatures:
                self.add(
                    (*self.path, *step.path, "id"),
                    f"{step.id!r} is the id of the step that waits for the required "
                    f"confirmation {self.signatures[step.id]!r}: choose another id",
                )
            if step.id in first:
                self.add(
                    (*self.path, *step.path, "id"),
                    f"duplicate step id {step.id!r} "
                    f"(also at {dotted(first[step.id])}): ids are unique within an environment",
                )
            else:
                first[step.id] = (*self.path, *step.path)

    def _step(self, step: StepParts, env: EnvironmentParts) -> None:
        path = (*self.path, *step.path)
        if step.uses == TARGET_STEP:
            if step.phase != "deploy":
                self.add(
                    (*path, "uses"),
                    f"'uses: target' deploys the version: it belongs in deploy, where a "
                    f"rollback undoes it, not in {_phase_words(step.phase)}",
                )
            elif not env.has_target:
                self.add(
                    (*path, "uses"),
                    f"'uses: target' deploys with the environment's target, but environment "
                    f"{self.name!r} has no 'target'",
                )
        elif step.uses is not None:
            self._driver(path, "step", step.uses, step.with_)
        if step.if_ is not None:
            try:
                compile_condition(step.if_)
            except ValueError as exc:
                self.add((*path, "if"), str(exc))

    def _driver(self, path: KeyPath, kind: DriverKind, name: str, options: object) -> None:
        if self.catalog is None:  # the caller chose not to check drivers
            return
        known = sorted(self.catalog.names(kind))
        if name not in known:
            hint = did_you_mean(name, known)
            if not hint:
                hint = (
                    f" (no {kind} drivers are installed)"
                    if not known
                    else (f" (known: {', '.join(known)})" if len(known) <= 12 else "")
                )
            self.add((*path, "uses"), f"unknown {kind} driver {name!r}{hint}")
            return
        try:
            model = self.catalog.options_model(kind, name)
        except (ImportError, AttributeError, LookupError) as exc:
            self.add((*path, "uses"), f"the {kind} driver {name!r} cannot be loaded: {exc}")
            return
        if not isinstance(options, dict):
            return  # the step's own validation says 'with' must be a mapping
        try:
            model.model_validate(options)
        except ValidationError as exc:
            self.problems.extend(translate(exc, self.doc, model, (*path, "with")))

    def _needs(self, steps: list[StepParts]) -> None:
        by_id = {s.id: s for s in reversed(steps) if s.id is not None}
        ids = list(by_id)
        graph: dict[str, list[str]] = {}
        for step in steps:
            for i, need in enumerate(step.needs):
                where = item_path(self.doc, (*self.path, *step.path, "needs"), i)
                needed = by_id.get(need)
                if needed is None:
                    self.add(
                        where,
                        f"{need!r} is no step of environment {self.name!r}{did_you_mean(need, ids)}",
                    )
                    continue
                problem = self._order(step, needed)
                if problem is not None:
                    self.add(where, problem)
                elif step.id is not None:
                    graph.setdefault(step.id, []).append(need)
        for cycle in _cycles(graph):
            shown = cycle if len(cycle) <= 12 else [*cycle[:5], "...", *cycle[-3:]]
            size = f" ({len(cycle) - 1} steps)" if len(cycle) > 12 else ""
            self.add(
                (*self.path, *by_id[cycle[0]].path, "needs"),
                f"steps need each other in a cycle: {' -> '.join(shown)}{size}",
            )

    def _order(self, step: StepParts, needed: StepParts) -> str | None:
        """Why ``step`` cannot need ``needed``, or None."""
        need = needed.id
        if step.phase == "rollback" or needed.phase == "rollback":
            if step.phase == needed.phase and _index(needed) < _index(step):
                return None
            return (
                f"{need!r} is not a rollback step written before this one: rollback steps run "
                "in the order written and can need only those"
            )
        if _ORDER[needed.phase] > _ORDER[step.phase]:
            return (
                f"{need!r} is a {needed.phase} step, which runs after {_phase_words(step.phase)}: "
                "a step can need only steps of its own or an earlier phase"
            )
        if (
            self.fast_track is not None
            and needed.phase == "gates"
            and step.phase != "gates"
            and need not in self.fast_track
        ):
            return (
                f"{need!r} is a gate the emergency fast track skips (emergency.gates): "
                "an emergency deployment could not be planned"
            )
        return None

    def _window(self, path: KeyPath, days: list[str], hours: list[str], tz: str) -> None:
        if not days:
            self.add((*path, "days"), "no days: the window would never open")
        for i, spec in enumerate(days):
            try:
                parse_days([spec])
            except ValueError as exc:
                self.add(item_path(self.doc, (*path, "days"), i), str(exc))
        good = bool(hours)
        if not hours:
            self.add((*path, "hours"), "no hours: the window would never open")
        for i, spec in enumerate(hours):
            try:
                parse_hours([spec])
            except ValueError as exc:
                good = False
                self.add(item_path(self.doc, (*path, "hours"), i), str(exc))
        if good:
            try:
                parse_hours(hours)
            except ValueError as exc:
                self.add((*path, "hours"), str(exc))
        try:
            parse_tz(tz)
        except ValueError as exc:
            self.add((*path, "tz"), str(exc))


def _index(step: StepParts) -> int:
    last = step.path[-1]
    return last if isinstance(last, int) else 0


def _phase_words(phase: str) -> str:
    return f"the {phase} steps" if phase in ("post", "rollback") else f"the {phase}"


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Each cycle once, as ``[a, b, a]``, found by an iterative depth-first search (a
    recursive one would overflow on a long chain of ``needs``)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    found: list[list[str]] = []
    for root in graph:
        if root in state:
            continue
        path: list[str] = [root]
        state[root] = 1
        todo = [iter(graph.get(root, []))]
        while todo:
            nxt = next(todo[-1], None)
            if nxt is None:
                todo.pop()
                state[path.pop()] = 2
            elif state.get(nxt) == 1:
                found.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                todo.append(iter(graph.get(nxt, [])))
    return found
