"""A deployment as CI tools read it: its steps as test cases, each with the line of
``releasegate.yaml`` that declares it (``--junit``, GitHub's job summary and annotations).

The record says what ran; the config says what was planned and where it is written. A
step the deployment never reached is a case too (``not_run``), so a report never looks
shorter, and greener, than the pipeline.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from releasegate.identity import Actor
from releasegate.integrations.cases import Case
from releasegate.service.show import show
from releasegate.service.workspace import Workspace

PHASES = ("gates", "deploy", "post")


@dataclass(frozen=True)
class CiReport:
    """The ``show`` report of a deployment and its steps as :class:`Case`\\ s."""

    report: dict[str, object]
    cases: list[Case]
    environment: str
    version: str
    status: str


def ci_report(ws: Workspace, actor: Actor, id: int, *, relative_to: Path | None = None) -> CiReport:
    """The deployment ``id`` as test cases. ``relative_to`` is the directory the cases'
    file paths are given from (a CI's checkout: GitHub annotates paths in the repository);
    the current directory by default."""
    report = show(ws, actor, id)
    dep = ws.store.get_deployment(id)
    assert dep is not None  # show() has refused an unknown id
    checking = bool(dep.plan.get("check"))
    where = _Locator(ws, dep.environment, relative_to or Path.cwd())
    runs: dict[tuple[str, str], dict[str, object]] = {}
    attempts: dict[tuple[str, str], int] = {}
    for step in _dicts(report.get("steps")):
        key = (str(step["phase"]), str(step["step"]))
        runs[key] = step  # the record lists attempts in order: the last one wins
        attempts[key] = attempts.get(key, 0) + 1
    cases: list[Case] = []
    env = ws.config.environments.get(dep.environment)
    planned: list[tuple[str, str, str]] = []
    if env is not None:
        for phase in ("gates",) if checking else PHASES:
            planned += [(phase, s.id, s.title) for s in getattr(env, phase)]
    for phase, step_id, title in planned:
        run = runs.pop((phase, step_id), None)
        cases.append(_case(phase, step_id, title, run, attempts.get((phase, step_id), 0), where))
    for (phase, step_id), run in runs.items():  # sign-offs, verification, rollback steps
        cases.append(_case(phase, step_id, step_id, run, attempts[(phase, step_id)], where))
    return CiReport(report, cases, dep.environment, dep.version, dep.status)


def _case(phase: str, step_id: str, title: str, run: dict[str, object] | None, attempts: int,
          where: _Locator) -> Case:
    file, line = where(phase, step_id)
    if run is None:
        return Case(phase, step_id, title, "not_run", file=file, line=line)
    took = run.get("duration_s")
    return Case(
        phase, step_id, title, str(run["status"]), summary=str(run.get("summary") or ""),
        output=str(run.get("output") or ""),
        duration_s=float(took) if isinstance(took, int | float) else None,
        attempts=attempts, file=file, line=line,
    )


class _Locator:
    """Where a step is declared: (file, line), or (file, None) when the config does not
    say (a step the engine adds)."""

    def __init__(self, ws: Workspace, environment: str, base: Path) -> None:
        from releasegate.config.document import Document, read_document
        from releasegate.errors import ConfigError

        path = ws.config_path.resolve()
        try:
            shown = os.path.relpath(path, base.resolve())
        except ValueError:  # another drive (Windows)
            shown = str(path)
        self.file = shown if not shown.startswith("..") else str(path)
        self.environment = environment
        try:
            self.doc: Document | None = read_document(path.read_text(encoding="utf-8-sig"), self.file)
        except (OSError, ConfigError):
            self.doc = None

    def __call__(self, phase: str, step_id: str) -> tuple[str | None, int | None]:
        if self.doc is None:
            return self.file, None
        env = ("environments", self.environment)
        lists: dict[str, tuple[str | int, ...]] = {
            "gates": (*env, "gates"), "deploy": (*env, "deploy"), "post": (*env, "post"),
            "rollback": (*env, "rollback", "steps"), "verify": (*env, "verify"),
        }
        key, wanted = "id", step_id
        if step_id.startswith("sign."):
            lists[phase] = ("confirmations",)
            wanted = step_id.removeprefix("sign.")
        elif phase == "verify":
            key, wanted = "stage", step_id.removeprefix("verify.")
        container = lists.get(phase)
        items = self.doc.get(container) if container else None
        if isinstance(items, list):
            for index, item in enumerate(items):
                if isinstance(item, dict) and item.get(key) == wanted:
                    return self.file, self.doc.at((*container, index)).line  # type: ignore[misc]
        return self.file, None


def _dicts(value: object) -> list[dict[str, object]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
