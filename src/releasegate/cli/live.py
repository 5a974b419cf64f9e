"""Live views of a running deployment: a Rich tree in a terminal, plain lines in a log,
JSON lines with ``--json``."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType

from pydantic import JsonValue
from rich.console import Console, RenderableType
from rich.live import Live
from rich.text import Text
from rich.tree import Tree

ICONS = {
    "pending": ("·", "dim"),
    "running": ("▶", "cyan"),
    "succeeded": ("✓", "green"),
    "warned": ("!", "yellow"),
    "skipped": ("–", "dim"),
    "failed": ("✗", "red"),
    "timed_out": ("⏱", "red"),
    "cancelled": ("■", "yellow"),
}


@dataclass
class _Row:
    title: str
    status: str = "pending"
    started: float | None = None
    ended: float | None = None
    summary: str = ""
    last_line: str = ""
    attempt: int = 1


@dataclass
class _Stage:
    """A verify stage as last reported: intervals done, values beside their checks."""

    name: str
    for_s: float = 0.0
    done: int = 0
    planned: int = 0
    elapsed_s: float = 0.0
    values: dict[str, float] = field(default_factory=dict)
    checks: dict[str, str] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)
    verdict: str = ""

    def bar(self, width: int = 20) -> str:
        share = min(self.elapsed_s / self.for_s, 1.0) if self.for_s else 0.0
        full = round(share * width)
        return "[" + "#" * full + "-" * (width - full) + f"] {self.elapsed_s:.0f}/{self.for_s:.0f}s"

    def metrics(self) -> list[tuple[str, str]]:
        """(text, outcome) per checked metric: ``p95 12.3 (< 500ms)``."""
        shown = []
        for metric, check in self.checks.items():
            value = self.values.get(metric)
            seen = "no data" if value is None else f"{value:.4g}"
            shown.append((f"{metric} {seen} ({check})", self.outcomes.get(metric, "")))
        return shown

    def line(self) -> str:
        marks = {"pass": "ok", "fail": "FAIL", "inconclusive": "?", "error": "ERR"}
        parts = [f"{text} {marks.get(outcome, outcome)}".rstrip() for text, outcome in self.metrics()]
        return f"  verify {self.name} {self.bar()} {self.done}/{self.planned}: " + ", ".join(parts)


OUTCOME_STYLE = {"pass": "green", "fail": "red", "inconclusive": "yellow", "error": "red"}


def _floats(value: object) -> dict[str, float]:
    if not isinstance(value, dict):
        return {}
    return {str(k): float(v) for k, v in value.items() if isinstance(v, int | float)}


def _strs(value: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


@dataclass
class _Phase:
    name: str
    rows: dict[str, _Row] = field(default_factory=dict)


class JsonLines:
    """One JSON object per event on stdout, for CI."""

    def event(self, type: str, data: Mapping[str, JsonValue]) -> None:
        print(json.dumps({"event": type, "at": time.time(), **data}, default=str), flush=True)

    def __enter__(self) -> JsonLines:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class LiveTree:
    """A tree of phases and steps with state and elapsed time; plain lines off a terminal."""

    def __init__(self, console: Console | None = None, *, title: str = "") -> None:
        self.console = console or Console(stderr=False)
        self.title = title
        self.phases: dict[str, _Phase] = {}
        self.notes: list[str] = []
        self.stages: dict[str, _Stage] = {}
        self._live: Live | None = None
        self.finished: str | None = None

    def __enter__(self) -> LiveTree:
        if self.console.is_terminal:
            self._live = Live(
                get_renderable=self.render, console=self.console, refresh_per_second=8, transient=False
            )
            self._live.__enter__()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.__exit__(et, ev, tb)
            if self.finished:
                self.console.print(self.finished, highlight=False, markup=False, soft_wrap=True)

    def _row(self, phase: str, step: str) -> _Row:
        ph = self.phases.setdefault(phase, _Phase(phase))
        return ph.rows.setdefault(step, _Row(step))

    def event(self, type: str, data: Mapping[str, JsonValue]) -> None:
        step = str(data.get("step", ""))
        if type == "deployment.started":
            plan = data.get("plan")
            if isinstance(plan, dict):
                for phase in ("gates", "deploy", "post"):
                    steps = plan.get(phase)
                    if isinstance(steps, list):
                        for s in steps:
                            if isinstance(s, dict):
                                self._row(phase, str(s.get("id"))).title = str(s.get("title"))
            self._line(f"deployment {data.get('id')} started")
        elif type == "step.started":
            phase = str(data.get("phase", ""))
            row = self._row(phase, step)
            row.status, row.started, row.ended = "running", time.monotonic(), None
            row.attempt = int(str(data.get("attempt", 1)))
            self._line(f"  ▶ {phase}/{step}" + (f" (attempt {row.attempt})" if row.attempt > 1 else ""))
        elif type == "step.finished":
            row = self._find(step)
            row.status, row.ended = str(data.get("status")), time.monotonic()
            row.summary = str(data.get("summary", ""))
            icon, _ = ICONS.get(row.status, ("?", ""))
            self._line(f"  {icon} {step}: {row.status} — {row.summary}")
        elif type == "step.output":
            self._find(step).last_line = str(data.get("line", ""))[:120]
        elif type == "step.retrying":
            self._line(f"  ↻ {step}: retrying in {data.get('in_s')}s")
        elif type in ("verify.stage", "verify.progress"):
            self._stage_event(type, data)
        elif type in ("rollback.started", "rollback.finished", "verify.finished", "deployment.resumed", "lock.lost"):
            text = {
                "rollback.started": f"ROLLBACK to {data.get('to_version')}: {data.get('reason')}",
                "rollback.finished": f"rollback {'done' if data.get('ok') else 'FAILED'}",
                "verify.finished": f"verification: {data.get('detail') or data.get('reason')}",
                "deployment.resumed": f"deployment {data.get('id')} resumed",
                "lock.lost": f"lock lost: {data.get('detail')}",
            }[type]
            self.notes.append(text)
            self._line(text)
        elif type == "deployment.finished":
            detail = f" — {data.get('detail')}" if data.get("detail") else ""
            self.finished = f"deployment {data.get('id')}: {data.get('status')}{detail}"
            self._line(self.finished)
        elif type == "phase.started":
            self._line(f"phase {data.get('phase')}")

    def _stage_event(self, type: str, data: Mapping[str, JsonValue]) -> None:
        name = str(data.get("stage", ""))
        stage = self.stages.setdefault(name, _Stage(name))
        if type == "verify.progress":
            stage.done, stage.planned = int(str(data.get("done", 0))), int(str(data.get("planned", 0)))
            stage.elapsed_s = float(str(data.get("elapsed_s", 0.0)))
            stage.for_s = float(str(data.get("for_s", stage.for_s)))
            stage.values = _floats(data.get("values"))
            stage.checks = _strs(data.get("checks")) or stage.checks
            stage.outcomes = _strs(data.get("outcomes"))
            self._line(stage.line())
        elif data.get("status") == "started":
            stage.for_s = float(str(data.get("for_s", 0.0)))
            stage.checks = _strs(data.get("checks"))
            self._line(f"  verify {name}: {stage.for_s:g}s against " + ", ".join(
                f"{m} {c}" for m, c in stage.checks.items()))
        else:
            stage.verdict = str(data.get("verdict", ""))
            self._line(f"  verify {name}: {stage.verdict} — {data.get('reason')}")

    def _find(self, step: str) -> _Row:
        for ph in reversed(list(self.phases.values())):
            if step in ph.rows:
                return ph.rows[step]
        return self._row("other", step)

    def _line(self, text: str) -> None:
        if self._live is None:
            self.console.print(text, highlight=False, markup=False, soft_wrap=True)

    def render(self) -> RenderableType:
        tree = Tree(Text(self.title, style="bold"))
        now = time.monotonic()
        for ph in self.phases.values():
            branch = tree.add(Text(ph.name, style="bold"))
            for row in ph.rows.values():
                icon, style = ICONS.get(row.status, ("?", ""))
                line = Text(f"{icon} ", style=style)
                line.append(row.title)
                if row.started is not None:
                    line.append(f"  {(row.ended or now) - row.started:5.1f}s", style="dim")
                if row.summary and row.status != "running":
                    line.append(f"  {row.summary[:100]}", style=style or "dim")
                elif row.status == "running" and row.last_line:
                    line.append(f"  {row.last_line}", style="dim")
                branch.add(line)
        if self.stages:
            branch = tree.add(Text("verify", style="bold"))
            for stage in self.stages.values():
                head = Text(f"{stage.name} {stage.bar()} {stage.done}/{stage.planned}")
                if stage.verdict:
                    head.append(f"  {stage.verdict}", style=OUTCOME_STYLE.get(stage.verdict, ""))
                node = branch.add(head)
                for text, outcome in stage.metrics():
                    node.add(Text(f"{text} {outcome}".rstrip(), style=OUTCOME_STYLE.get(outcome, "dim")))
        for note in self.notes:
            tree.add(Text(note, style="yellow"))
        return tree


def stderr_console() -> Console:
    return Console(file=sys.stderr)
