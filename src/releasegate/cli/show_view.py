"""``releasegate show ID``: a deployment as a filled-in checklist, each item with its evidence."""

from __future__ import annotations

import json

from releasegate.cli.context import Globals
from releasegate.cli.exit_codes import Exit
from releasegate.cli.terminal import stdout_is_terminal
from releasegate.errors import UsageError
from releasegate.service.show import OK, show, shown_time


def to_markdown(report: dict[str, object]) -> str:
    dep = report["deployment"]
    assert isinstance(dep, dict)
    lines = [
        f"# Deployment {dep['id']}: {dep['version']} to {dep['environment']} — {dep['status']}",
        "",
        f"* kind: {dep['kind']}{' (emergency)' if dep['emergency'] else ''}",
        f"* by: {dep['user']}" + (f" — reason: {dep['reason']}" if dep["reason"] else ""),
        f"* started: {shown_time(dep['started_at'])}; finished: {shown_time(dep['finished_at'])}"
        + (f"; took {dep['duration_s']:.1f}s" if dep["duration_s"] is not None else ""),
    ]
    if dep["detail"]:
        lines.append(f"* detail: {dep['detail']}")
    lines += ["", "## Checklist", ""]
    checklist = report["checklist"]
    assert isinstance(checklist, list)
    for item in checklist:
        mark = "x" if item["done"] else " "
        lines.append(f"- [{mark}] **{item['title']}** (`{item['id']}`) — {item['evidence']}")
    if not checklist:
        lines.append("(no step or confirmation of this config names a checklist item)")
    lines += _people(report)
    lines += ["", "## Steps", "", "| phase | step | attempt | status | took | summary |", "|---|---|---|---|---|---|"]
    steps = report["steps"]
    assert isinstance(steps, list)
    for s in steps:
        took = f"{s['duration_s']:.1f}s" if s["duration_s"] is not None else "—"
        summary = str(s["summary"]).replace("|", "\\|").replace("\n", " ")[:200]
        lines.append(f"| {s['phase']} | {s['step']} | {s['attempt']} | {s['status']} | {took} | {summary} |")
    failed = [s for s in steps if s["status"] not in OK and s["output"]]
    for s in failed:
        lines += ["", f"### Output of {s['step']} ({s['status']})", "", "```", str(s["output"]).rstrip(), "```"]
    lines += ["", f"{report['events']} events recorded for this deployment.", ""]
    return "\n".join(lines)


def show_deployment(g: Globals, id: int, *, fmt: str, chart: str | None = None) -> int:
    if fmt not in ("text", "md", "json"):
        raise UsageError(f"--format {fmt!r}: use text, md or json")
    report = show(g.workspace, g.actor, id)
    if chart is not None:  # drawn before anything is printed: a bad path prints nothing
        from pathlib import Path

        from rich.console import Console

        from releasegate.service.verify import chart as draw

        drawn = draw(g.workspace, g.actor, id, Path(chart))
        Console(stderr=True).print(drawn.text, highlight=False, markup=False)
    if fmt == "json" or g.json:
        print(json.dumps(report, indent=2, default=str))
    elif fmt == "md" or not stdout_is_terminal():  # logs and pipes get the markdown itself
        print(to_markdown(report))
    else:
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(to_markdown(report)))
    return Exit.OK


def show_announcement(g: Globals, id: int) -> int:
    """The deployment announcement, rendered from the deployment's records."""
    from releasegate.service.metrics import announcement

    text = announcement(g.workspace, g.actor, id)
    print(json.dumps({"deployment": id, "announcement": text}) if g.json else text, end="" if not g.json else "\n")
    return Exit.OK


def _people(report: dict[str, object]) -> list[str]:
    """Who approved and signed, what policy decided, and any override."""
    lines = ["", "## Sign-offs and policy", ""]
    for a in _dicts(report.get("approvals")):
        note = f": {a['note']}" if a.get("note") else ""
        lines.append(f"* approved as {a['role']} by {a['user']} at {shown_time(a['at'])}{note}")
    for c in _dicts(report.get("confirmations")):
        note = f": {c['note']}" if c.get("note") else ""
        lines.append(f"* {c['item']} signed by {c['user']} at {shown_time(c['at'])}{note}")
    policy = report.get("policy")
    if isinstance(policy, dict):
        verdict = "allowed" if policy.get("allowed") else "refused"
        judged = ", ".join(f"{r['rule']} {r['verdict']}" for r in _dicts(policy.get("results")))
        lines.append(f"* policy {verdict} at {shown_time(policy.get('at'))}: {judged}")
    for o in _dicts(report.get("overrides")):
        actor = o.get("actor")
        who = actor.get("user") if isinstance(actor, dict) else "?"
        rules = o.get("rules")
        listed = ", ".join(str(r) for r in rules) if isinstance(rules, list) else ""
        lines.append(f"* **override** of {listed} by {who}: {o.get('reason')}")
    for proc in _dicts(report.get("left_running")):
        lines.append(
            f"* **left running** after the deployment: pid {proc.get('pid')} "
            f"`{proc.get('command')}` (started by step {proc.get('step')})"
        )
    if len(lines) == 3:
        lines.append("(none recorded)")
    return lines


def _dicts(value: object) -> list[dict[str, object]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
