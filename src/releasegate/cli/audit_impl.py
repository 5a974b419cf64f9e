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
        extra = ""
        if report.anchors:
            extra += f", {report.anchors:,} anchor{'s' if report.anchors != 1 else ''} checked"
        if report.signatures:
            extra += f", {report.signatures:,} signature{'s' if report.signatures != 1 else ''} checked"
        print(f"audit: {report.checked:,} {noun}, {verdict}{extra}" if report.ok else f"audit: {verdict}")
    return Exit.OK if report.ok else Exit.FAILED


def anchor(g: Globals) -> int:
    """Write the chain head outside the database."""
    done = records.audit_anchor(g.workspace, g.actor)
    print(json.dumps(done.to_json()) if g.json else done.text)
    return Exit.OK


def db_upgrade(g: Globals) -> int:
    """Migrate the store to the newest schema."""
    from releasegate.service.records import db_upgrade as upgrade

    text = upgrade(g.workspace)
    print(json.dumps({"upgraded": text}) if g.json else text)
    return Exit.OK
