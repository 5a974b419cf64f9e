"""The calendar people keep: ad-hoc freezes, incidents, campaigns, and obligations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from releasegate.errors import UsageError
from releasegate.identity import Actor
from releasegate.service.auth import authorize
from releasegate.service.inputs import check_environment, check_id
from releasegate.service.results import Done
from releasegate.service.workspace import Workspace

if TYPE_CHECKING:
    from releasegate.store.api import CampaignRecord, FreezeRecord, IncidentRecord


def _target(ws: Workspace, env: str) -> str | None:
    return check_environment(list(ws.config.environments), env, allow_all=True)


def add_freeze(
    ws: Workspace, actor: Actor, *, env: str, start: datetime, end: datetime, reason: str,
    hard: bool = False,
) -> Done:
    """Freeze deployments to ``env`` (``all``: every one) from ``start`` to ``end``."""
    from releasegate.policy.labels import utc_label

    authorize(ws.config, actor, "freeze.add")
    if end <= start:
        raise UsageError(f"--to: {utc_label(end)} is not after --from {utc_label(start)}")
    if not reason.strip():
        raise UsageError("--reason: say why deployments are frozen")
    target = _target(ws, env)
    record = ws.store.add_freeze(
        environment=target, start=start, end=end, reason=reason, hard=hard, user=actor.name
    )
    kind = "hard freeze" if hard else "freeze"
    return Done(
        record.id,
        f"{kind} {record.id}: {target or 'all environments'} from {utc_label(start)} "
        f"to {utc_label(end)}: {reason}",
        {"environment": target, "start": start.isoformat(), "end": end.isoformat(),
         "reason": reason, "hard": hard},
    )


def list_freezes(ws: Workspace, actor: Actor) -> list[FreezeRecord]:
    return ws.store.list_freezes()


def remove_freeze(ws: Workspace, actor: Actor, id: int) -> Done:
    """Lift a freeze; a hard one needs ``freeze.remove-hard`` (admin by default)."""
    check_id(id, "freeze")
    found = next((f for f in ws.store.list_freezes() if f.id == id), None)
    hard = found is not None and found.hard
    authorize(ws.config, actor, "freeze.remove-hard" if hard else "freeze.remove")
    ws.store.remove_freeze(id, user=actor.name)
    return Done(id, f"freeze {id} removed by {actor.name}", {"removed_by": actor.name})


def open_incident(
    ws: Workspace, actor: Actor, title: str, *, severity: str, impact: str, env: str,
    deployment: int | None = None,
) -> Done:
    """Open an incident: the decision matrix's action and deadline; it may freeze deploys.
    ``deployment`` names the deployment that caused it: linked as its failure."""
    from releasegate.policy.api import incident_action, parse_impact
    from releasegate.policy.freezes import SEVERITIES, severity_rank
    from releasegate.policy.labels import human_duration, utc_label

    authorize(ws.config, actor, "incident.open")
    if severity not in SEVERITIES:
        from releasegate.config.timespec import did_you_mean

        raise UsageError(
            f"--severity: {severity!r} is not a severity (use {', '.join(SEVERITIES)})"
            f"{did_you_mean(severity, SEVERITIES)}"
        )
    share = parse_impact(impact)
    config = ws.config
    target = _target(ws, env)
    if deployment is not None and ws.store.get_deployment(deployment) is None:
        raise UsageError(f"--deployment: there is no deployment {deployment}")
    action = incident_action(config, severity, share, datetime.now(UTC))
    record = ws.store.open_incident(
        title=title, severity=severity, impact=share, environment=target, user=actor.name,
        action=action.action, deadline=action.deadline,
    )
    if deployment is not None:
        ws.store.link_failure(deployment, cause="incident", user=actor.name, incident_id=record.id)
    lines = [f"incident {record.id} opened: {title}"
             + (f" (caused by deployment {deployment})" if deployment is not None else ""),
             f"action: {action.action} within {human_duration(action.within)} "
             f"(deadline {utc_label(action.deadline)})"]
    frozen = [
        name for name, e in config.environments.items()
        if "incidents" in e.freezes and (target is None or name == target)
    ]
    if frozen and severity_rank(severity) >= severity_rank(config.incidents.freeze_at):
        lines.append(f"deployments to {', '.join(frozen)} are frozen until it is closed")
    else:
        frozen = []
    return Done(
        record.id, "\n".join(lines),
        {"title": title, "severity": severity, "impact": share, "environment": target,
         "action": action.action, "deadline": action.deadline.isoformat(), "frozen": frozen,
         "deployment": deployment},
    )


def close_incident(ws: Workspace, actor: Actor, id: int, *, note: str | None = None) -> Done:
    from releasegate.policy.labels import human_duration

    authorize(ws.config, actor, "incident.close")
    check_id(id, "incident")
    record = ws.store.close_incident(id, user=actor.name, note=note)
    took = human_duration((record.closed_at or record.opened_at) - record.opened_at)
    return Done(id, f"incident {id} closed by {actor.name} after {took}",
                {"closed_by": actor.name, "note": note})


def list_incidents(ws: Workspace, actor: Actor, *, include_closed: bool = False) -> list[IncidentRecord]:
    return ws.store.list_incidents(include_closed=include_closed)


def add_campaign(
    ws: Workspace, actor: Actor, name: str, *, at: datetime, buffer: str | None, env: str
) -> Done:
    """Record a marketing campaign: no deployments within its buffer."""
    from releasegate.config.types import parse_duration
    from releasegate.policy.labels import utc_label

    authorize(ws.config, actor, "campaign.add")
    target = _target(ws, env)
    try:
        span = parse_duration(buffer) if buffer is not None else ws.config.campaigns.buffer
    except ValueError as exc:
        raise UsageError(f"--buffer: {exc}") from None
    record = ws.store.add_campaign(
        name=name, at=at, buffer_s=span.total_seconds(), environment=target, user=actor.name
    )
    return Done(
        record.id,
        f"campaign {record.id}: {name} at {utc_label(at)}; no deployments to "
        f"{target or 'any environment'} from {utc_label(at - span)} to {utc_label(at + span)}",
        {"name": name, "at": at.isoformat(), "buffer_s": span.total_seconds(),
         "environment": target},
    )


def list_campaigns(ws: Workspace, actor: Actor) -> list[CampaignRecord]:
    return ws.store.list_campaigns()


@dataclass(frozen=True)
class Owed:
    """An obligation with its owner: whoever ran the deployment that owes it."""

    id: int
    deployment_id: int
    kind: str
    text: str
    due_at: datetime
    owner: str | None
    closed_at: datetime | None
    close_note: str | None

    def overdue(self, now: datetime) -> bool:
        return self.closed_at is None and self.due_at < now


def list_obligations(ws: Workspace, actor: Actor, *, include_closed: bool = False) -> list[Owed]:
    """Obligations, soonest due first, each with its owner."""
    store = ws.store
    owners: dict[int, str | None] = {}
    found: list[Owed] = []
    for o in store.list_obligations(open_only=not include_closed):
        if o.deployment_id not in owners:
            dep = store.get_deployment(o.deployment_id)
            owners[o.deployment_id] = dep.user if dep else None
        found.append(Owed(o.id, o.deployment_id, o.kind, o.text, o.due_at, owners[o.deployment_id],
                          o.closed_at, o.close_note))
    return found


def close_obligation(
    ws: Workspace, actor: Actor, id: int, *, note: str | None = None, postmortem: Path | None = None
) -> Done:
    """Close an obligation; ``postmortem`` links a markdown post-mortem (its path, title
    and SHA-256 go into the closing note, recorded in the same write)."""
    authorize(ws.config, actor, "obligation.close")
    check_id(id, "obligation")
    link: dict[str, str] | None = None
    if postmortem is not None:
        link = _postmortem(ws, postmortem)
        note = "\n".join(filter(None, [note, f"post-mortem: {link['path']} ({link['title']}) "
                                             f"sha256:{link['sha256']}"]))
    record = ws.store.close_obligation(id, user=actor.name, note=note)
    return Done(record.id, f"obligation {record.id} ({record.kind}) closed by {actor.name}"
                + (f", post-mortem {link['path']} linked" if link else ""),
                {"kind": record.kind, "closed_by": actor.name, "note": note, "postmortem": link})


def _postmortem(ws: Workspace, path: Path) -> dict[str, str]:
    import hashlib

    full = path if path.is_absolute() else Path.cwd() / path
    if full.suffix.lower() not in (".md", ".markdown"):
        raise UsageError(f"--postmortem: {path} is not a markdown file (.md)")
    try:
        data = full.read_bytes()
    except OSError as exc:
        raise UsageError(f"--postmortem: cannot read {path}: {exc.strerror}") from None
    text = data.decode("utf-8", errors="replace")
    if not text.strip():
        raise UsageError(f"--postmortem: {path} is empty")
    title = next((line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")),
                 full.stem)
    try:
        shown = str(full.resolve().relative_to(ws.root))
    except ValueError:
        shown = str(full.resolve())
    return {"path": shown, "title": title[:200], "sha256": hashlib.sha256(data).hexdigest()}


