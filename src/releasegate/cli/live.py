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
        elif type in ("rollback.started", "rollback.finished", "verify.not_run", "deployment.resumed", "lock.lost"):
            text = {
                "rollback.started": f"ROLLBACK to {data.get('to_version')}: {data.get('reason')}",
                "rollback.finished": f"rollback {'done' if data.get('ok') else 'FAILED'}",
                "verify.not_run": str(data.get("reason")),
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
        for note in self.notes:
            tree.add(Text(note, style="yellow"))
        return tree


def stderr_console() -> Console:
    return Console(file=sys.stderr)
