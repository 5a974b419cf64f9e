"""``releasegate show ID``: a deployment as a filled-in checklist, each item with its evidence."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from releasegate.cli.context import Globals
from releasegate.cli.exit_codes import Exit
from releasegate.errors import UsageError
from releasegate.store.records import StepRunRecord

OK = ("succeeded", "warned", "skipped")
EXCERPT = 600


@dataclass
class Item:
    id: str
    title: str
    done: bool
    evidence: str


def _when(at: datetime | None) -> str | None:
    """ISO 8601 in UTC, as every ``--json`` output writes times (None when unknown)."""
    return at.astimezone(UTC).isoformat() if at else None


def _shown(at: object) -> str:
    """An ISO time as the markdown report shows it."""
    if not isinstance(at, str):
        return "—"
    return datetime.fromisoformat(at).strftime("%Y-%m-%d %H:%M:%S UTC")


def _titles(g: Globals, spec: str | None) -> dict[str, str]:
    """Checklist item titles from the config's spec, when it is there to read."""
    if not spec:
        return {}
    path = Path(spec)
    if not path.is_absolute():
        path = g.config_path.resolve().parent / path
    from releasegate.config.checklist import load_checklist
    from releasegate.errors import ConfigError

    try:
        return {item.id: item.title for item in load_checklist(path).items}
    except ConfigError:
        return {}


def build_report(g: Globals, id: int) -> dict[str, object]:
    config = g.load_config()
    store = g.open_store()
    dep = store.get_deployment(id)
    if dep is None:
        raise UsageError(f"there is no deployment {id}")
    runs = store.list_step_runs(id)
    last: dict[str, StepRunRecord] = {}
    for run in runs:
        if run.phase in ("gates", "deploy", "post"):
            last[run.step_id] = run
    titles = _titles(g, config.checklist)
    items: list[Item] = []
    env = config.environments.get(dep.environment)
    steps = [*env.gates, *env.deploy, *env.post] if env else []
    for step in steps:
        found = last.get(step.id)
        for item_id in step.checklist:
            if found is None:
                items.append(Item(item_id, titles.get(item_id, step.title), False, f"step {step.id}: not run"))
                continue
            status = found.status
            took = ""
            started, finished = found.started_at, found.finished_at
            if started and finished:
                took = f", {(finished - started).total_seconds():.1f}s"
            items.append(Item(
                item_id,
                titles.get(item_id, step.title),
                status in OK,
                f"step {step.id}: {status} — {found.summary} ({_shown(_when(started))}{took})",
            ))
    signed = {c.item: c for c in store.list_confirmations(id)}
    for conf in config.confirmations:
        if conf.environments and dep.environment not in conf.environments:
            continue
        c = signed.get(conf.id)
        evidence = (
            f"signed by {c.user} at {_shown(_when(c.created_at))}" + (f": {c.note}" if c.note else "")
            if c else f"not signed (needs {', '.join(conf.by) or 'anyone'})"
        )
        for item_id in conf.checklist or [conf.id]:
            items.append(Item(item_id, titles.get(item_id, conf.text), c is not None, evidence))
    return {
        "deployment": {
            "id": dep.id, "environment": dep.environment, "version": dep.version, "kind": dep.kind,
            "status": dep.status, "user": dep.user, "reason": dep.reason, "emergency": dep.emergency,
            "created_at": _when(dep.created_at), "started_at": _when(dep.started_at),
            "finished_at": _when(dep.finished_at), "detail": dep.detail,
            "duration_s": (dep.finished_at - dep.started_at).total_seconds()
            if dep.finished_at and dep.started_at else None,
        },
        "checklist": [item.__dict__ for item in items],
        "steps": [
            {
                "step": r.step_id, "phase": r.phase, "attempt": r.attempt, "status": r.status,
                "summary": r.summary, "started_at": _when(r.started_at),
                "duration_s": (r.finished_at - r.started_at).total_seconds() if r.finished_at else None,
                "output": r.output[-EXCERPT:] if r.output else "",
                "evidence": r.evidence,
            }
            for r in runs
        ],
        "events": len(store.list_events(deployment_id=id)),
    }


def to_markdown(report: dict[str, object]) -> str:
    dep = report["deployment"]
    assert isinstance(dep, dict)
    lines = [
        f"# Deployment {dep['id']}: {dep['version']} to {dep['environment']} — {dep['status']}",
        "",
        f"* kind: {dep['kind']}{' (emergency)' if dep['emergency'] else ''}",
        f"* by: {dep['user']}" + (f" — reason: {dep['reason']}" if dep["reason"] else ""),
        f"* started: {_shown(dep['started_at'])}; finished: {_shown(dep['finished_at'])}"
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


def show_deployment(g: Globals, id: int, *, fmt: str) -> int:
    if fmt not in ("text", "md", "json"):
        raise UsageError(f"--format {fmt!r}: use text, md or json")
    report = build_report(g, id)
    if fmt == "json" or g.json:
        print(json.dumps(report, indent=2, default=str))
    elif fmt == "md":
        print(to_markdown(report))
    else:
        from rich.markdown import Markdown

        Console().print(Markdown(to_markdown(report)))
    return Exit.OK
