"""What a deployment or check leaves for the CI system that ran it: a JUnit XML file
(``--junit FILE``), and under GitHub Actions the filled-in checklist in the job summary
and an ``::error`` annotation at each failed step's line of ``releasegate.yaml``."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from releasegate.errors import UsageError

if TYPE_CHECKING:  # the rest is imported when there is a report to write: every deploy imports this
    from releasegate.cli.context import Globals
    from releasegate.integrations.cases import Case
    from releasegate.service.results import Outcome


@dataclass(frozen=True)
class CiOutputs:
    """Where the reports go. ``github`` None means: when ``GITHUB_ACTIONS`` is ``true``."""

    junit: Path | None = None
    github: bool | None = None

    def github_on(self) -> bool:
        return self.github if self.github is not None else os.environ.get("GITHUB_ACTIONS") == "true"

    def check(self) -> None:
        """Refuse, before anything runs, outputs that cannot be written."""
        if self.junit is not None and not self.junit.parent.resolve().is_dir():
            raise UsageError(f"--junit {self.junit}: the directory {self.junit.parent} does not exist")
        if self.github and not os.environ.get("GITHUB_STEP_SUMMARY"):
            raise UsageError("--github-summary: GITHUB_STEP_SUMMARY is not set (GitHub Actions "
                             "sets it for each step; outside Actions set it to a file)")

    @property
    def wanted(self) -> bool:
        return self.junit is not None or self.github_on()


def write(g: Globals, outputs: CiOutputs, outcome: Outcome, *, what: str) -> None:
    """Write the reports of a deployment (or check) that ended with ``outcome``."""
    if not outputs.wanted or (outcome.deployment_id is None and outcome.status != "blocked"):
        return  # not confirmed at the prompt: nothing ran, nothing to report
    from releasegate.integrations.cases import Case

    base = Path(os.environ.get("GITHUB_WORKSPACE") or Path.cwd())
    if outcome.deployment_id is None:  # refused before anything was recorded
        cases = [Case("policy", "policy", "policy", "failed", summary=outcome.detail or outcome.status)]
        markdown = f"# {what} {outcome.version} to {outcome.environment} — {outcome.status}\n\n{outcome.detail}\n"
        if outcome.explanation:
            markdown += f"\n```\n{outcome.explanation}\n```\n"
    else:
        from releasegate.cli.show_view import to_markdown
        from releasegate.errors import ReleasegateError
        from releasegate.service.ci import ci_report

        try:
            report = ci_report(g.workspace, g.actor, outcome.deployment_id, relative_to=base)
        except ReleasegateError as exc:  # the deployment is done: its exit code stands
            print(f"warning: no CI report of deployment {outcome.deployment_id}: {exc}", file=sys.stderr)
            return
        cases = report.cases
        markdown = to_markdown(report.report)
    _emit(outputs, cases, markdown, outcome, what=what)


def _emit(outputs: CiOutputs, cases: list[Case], markdown: str, outcome: Outcome, *, what: str) -> None:
    from datetime import UTC, datetime

    from releasegate.integrations import junit, workflow

    env = outcome.environment
    if outputs.junit is not None:
        props = {"environment": env, "version": outcome.version, "status": outcome.status}
        if outcome.deployment_id is not None:
            props["deployment"] = str(outcome.deployment_id)
        data = junit.render(cases, environment=env, name=f"releasegate {what} {env} {outcome.version}",
                            timestamp=datetime.now(UTC).replace(microsecond=0).isoformat(),
                            properties=props)
        try:
            outputs.junit.write_bytes(data)
        except OSError as exc:
            print(f"warning: --junit {outputs.junit}: {exc.strerror or exc}", file=sys.stderr)
    if outputs.github_on():
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            try:
                workflow.append_summary(Path(summary), markdown + "\n")
            except OSError as exc:
                print(f"warning: GITHUB_STEP_SUMMARY {summary}: {exc.strerror or exc}", file=sys.stderr)
        # stderr: the runner reads workflow commands there too, and --json keeps stdout to JSON
        for line in workflow.error_annotations(cases, environment=env):
            print(line, file=sys.stderr, flush=True)
