"""Reading the record: a deployment as a filled-in checklist (``show``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from releasegate.errors import UsageError
from releasegate.identity import Actor
from releasegate.service.inputs import check_id
from releasegate.service.workspace import Workspace

if TYPE_CHECKING:
    from releasegate.store.api import StepRunRecord, Store

OK = ("succeeded", "warned", "skipped")
DONE = ("succeeded", "warned")
"""A checklist item is ticked only when its step ran and passed (a skipped step did not
prove anything)."""
EXCERPT = 600


def _when(at: datetime | None) -> str | None:
    """ISO 8601 in UTC, as every ``--json`` output writes times (None when unknown)."""
    return at.astimezone(UTC).isoformat() if at else None


def shown_time(at: object) -> str:
    """An ISO time as the markdown report shows it."""
    if not isinstance(at, str):
        return "—"
    return datetime.fromisoformat(at).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass
class Item:
    id: str
    title: str
    done: bool
    evidence: str


def _titles(ws: Workspace, spec: str | None) -> dict[str, str]:
    """Checklist item titles from the config's spec, when it is there to read."""
    if not spec:
        return {}
    path = Path(spec)
    if not path.is_absolute():
        path = ws.root / path
    from releasegate.config.checklist import load_checklist
    from releasegate.errors import ConfigError

    try:
        return {item.id: item.title for item in load_checklist(path).items}
    except ConfigError:
        return {}


def show(ws: Workspace, actor: Actor, id: int) -> dict[str, object]:
    """A deployment as a filled-in checklist: each item with its evidence, the steps, who
    approved and signed, what policy decided and any override."""
    check_id(id, "deployment")
    config = ws.config
    store = ws.store
    dep = store.get_deployment(id)
    if dep is None:
        raise UsageError(f"there is no deployment {id}")
    runs = store.list_step_runs(id)
    last: dict[str, StepRunRecord] = {}
    for run in runs:
        if run.phase in ("gates", "deploy", "post"):
            last[run.step_id] = run
    titles = _titles(ws, config.checklist)
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
                status in DONE,
                f"step {step.id}: {status} — {found.summary} ({shown_time(_when(started))}{took})",
            ))
    signed = {c.item: c for c in store.list_confirmations(id)}
    for conf in config.confirmations:
        if conf.environments and dep.environment not in conf.environments:
            continue
        if dep.kind not in conf.kinds and dep.kind != "rollback":
            continue
        c = signed.get(conf.id)
        evidence = (
            f"signed by {c.user} at {shown_time(_when(c.created_at))}" + (f": {c.note}" if c.note else "")
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
        "approvals": [
            {"role": a.role, "user": a.user, "note": a.note, "at": _when(a.created_at)}
            for a in store.list_approvals(dep.environment, dep.version)
        ] if dep.kind != "rollback" else [],
        "confirmations": [
            {"item": c.item, "user": c.user, "note": c.note, "at": _when(c.created_at)}
            for c in store.list_confirmations(id)
        ],
        **_policy(store, id),
    }


def _policy(store: Store, id: int) -> dict[str, object]:
    """The policy decisions and overrides recorded for the deployment, and the number of
    events recorded for it."""
    decisions: list[object] = []
    overrides: list[object] = []
    left: list[object] = []
    kinds = ("policy.decision", "policy.override", "deployment.left_running")
    for event in store.list_events(deployment_id=id, types=kinds):
        data = {k: v for k, v in event.data.items() if k != "_seals"}
        if event.type == "deployment.left_running":
            processes = data.get("processes")
            left.extend(processes if isinstance(processes, list) else [])
        else:
            (decisions if event.type == "policy.decision" else overrides).append(data)
    return {
        "policy": decisions[-1] if decisions else None,
        "overrides": overrides,
        "left_running": left,
        "events": store.count_events(id),
    }
