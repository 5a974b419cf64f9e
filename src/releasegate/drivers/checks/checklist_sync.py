"""``checklist-sync``: the team's markdown checklist has no box the config leaves out.

The document and the process must not drift apart: a box added to the markdown file
after ``init --from-checklist`` fails the deployment until the config covers it (a step,
a policy setting or a confirmation names its id).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from pydantic import Field, JsonValue

from releasegate.drivers.api import Options, StepContext, StepResult
from releasegate.errors import ConfigError

_LISTED = 5  # ids named in the summary; the evidence has them all


class ChecklistSyncOptions(Options):
    """Options of ``checklist-sync``."""

    config: str = Field(
        "releasegate.yaml", description="The config whose coverage is measured, relative to "
        "the config file's directory."
    )
    checklist: str | None = Field(
        None, description="The markdown checklist; default: the config's own `checklist:`."
    )
    allow_suggested: bool = Field(
        True, description="Pass when items are covered only by TODO: suggested steps."
    )


class ChecklistSync:
    """Measures the config's coverage of its checklist; fails on items nothing covers."""

    name: ClassVar[str] = "checklist-sync"
    Options: ClassVar[type[ChecklistSyncOptions]] = ChecklistSyncOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: ChecklistSyncOptions, ctx: StepContext) -> StepResult:
        from releasegate.config.checklist import load_checklist
        from releasegate.config.checklist_coverage import compute_coverage
        from releasegate.config.loader import load_config

        config_path = ctx.workdir / options.config
        try:
            config = load_config(config_path)
            spec = options.checklist or config.checklist
            if not spec:
                return StepResult(ok=False, summary=f"{options.config} names no checklist: "
                                  "set `checklist: FILE.md` or the step's `checklist` option")
            base = ctx.workdir if options.checklist else config_path.parent
            checklist = load_checklist(Path(os.path.normpath(base / spec)))
        except ConfigError as exc:
            return StepResult(ok=False, summary=str(exc).splitlines()[0])
        coverage = compute_coverage(config, checklist)
        bad = {"missing"} if options.allow_suggested else {"missing", "suggested"}
        uncovered = [c.item.id for c in coverage.items if c.status in bad]
        evidence: dict[str, JsonValue] = {"checklist": str(spec), "total": len(coverage.items),
                                          "uncovered": list(uncovered)}
        if uncovered:
            shown = ", ".join(uncovered[:_LISTED]) + (" …" if len(uncovered) > _LISTED else "")
            return StepResult(ok=False, evidence=evidence,
                              summary=f"{spec}: {len(uncovered)} of {len(coverage.items)} boxes "
                                      f"not covered by the config: {shown}")
        return StepResult(ok=True, evidence=evidence,
                          summary=f"{spec}: every one of its {len(coverage.items)} boxes is covered")
