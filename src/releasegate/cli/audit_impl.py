"""Implementation of ``releasegate audit verify``."""

from __future__ import annotations

import json

from releasegate.cli.context import Globals
from releasegate.cli.exit_codes import Exit
from releasegate.service import records


def verify(g: Globals) -> int:
    """Verify the event chain: exit 0 if intact, 1 naming every edited or deleted record."""
    report = records.audit_verify(g.workspace, g.actor)
    if g.json:
        print(json.dumps(report.to_json()))
    else:
        for problem in report.problems:
            print(problem)
        noun = "event" if report.checked == 1 else "events"
        verdict = "chain intact" if report.ok else "chain BROKEN"
        print(f"audit: {report.checked:,} {noun}, {verdict}" if report.ok else f"audit: {verdict}")
    return Exit.OK if report.ok else Exit.FAILED
