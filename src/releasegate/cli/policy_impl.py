"""policy explain, approve, freeze, incident, campaign: parse, call the service, present."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from releasegate.cli.context import Globals
from releasegate.cli.exit_codes import Exit
from releasegate.service import calendar, signoffs
from releasegate.service.explain import explain as explain_policy
from releasegate.service.explain import parse_time
from releasegate.service.facts import ALL
from releasegate.service.results import Done
from releasegate.service.text import human_duration, utc_label


def _emit(g: Globals, data: object, text: str) -> None:
    print(json.dumps(data, indent=2, default=str) if g.json else text)


def _done(g: Globals, done: Done) -> int:
    _emit(g, done.to_json(), done.text)
    return Exit.OK


def explain(g: Globals, env: str, *, at: str | None, version: str | None, kind: str) -> int:
    now = parse_time(at, "--at") if at is not None else None
    verdict = explain_policy(g.workspace, g.actor, env, at=now, version=version, kind=kind)
    decision = verdict.decision
    _emit(g, decision.to_json(), decision.explain())
    return Exit.OK if decision.allowed else Exit.BLOCKED


def approve(g: Globals, env: str, version: str, *, role: str, note: str | None) -> int:
    from releasegate.service.signing import local_signer

    return _done(g, signoffs.approve(
        g.workspace, g.actor, env, version, role=role, note=note, signer=local_signer()
    ))


def freeze_add(g: Globals, *, env: str, start: str, end: str, reason: str, hard: bool) -> int:
    begins, ends = parse_time(start, "--from"), parse_time(end, "--to")
    return _done(g, calendar.add_freeze(
        g.workspace, g.actor, env=env, start=begins, end=ends, reason=reason, hard=hard
    ))


def freeze_list(g: Globals) -> int:
    freezes = calendar.list_freezes(g.workspace, g.actor)
    lines = [
        f"{f.id:>4}  {f.environment or ALL:<12} {utc_label(f.start)} → {utc_label(f.end)}"
        f"{'  HARD' if f.hard else ''}  {f.reason}  (by {f.created_by})"
        for f in freezes
    ]
    data = [{"id": f.id, "environment": f.environment, "start": f.start.isoformat(),
             "end": f.end.isoformat(), "reason": f.reason, "hard": f.hard,
             "created_by": f.created_by} for f in freezes]
    _emit(g, data, "\n".join(lines) if lines else "no freezes")
    return Exit.OK


def freeze_remove(g: Globals, id: int) -> int:
    return _done(g, calendar.remove_freeze(g.workspace, g.actor, id))


def incident_open(
    g: Globals, title: str, *, severity: str, impact: str, env: str, deployment: int | None = None
) -> int:
    return _done(g, calendar.open_incident(
        g.workspace, g.actor, title, severity=severity, impact=impact, env=env, deployment=deployment
    ))


def incident_close(g: Globals, id: int, *, note: str | None) -> int:
    return _done(g, calendar.close_incident(g.workspace, g.actor, id, note=note))


def incident_list(g: Globals, *, include_closed: bool) -> int:
    incidents = calendar.list_incidents(g.workspace, g.actor, include_closed=include_closed)
    now = datetime.now(UTC)
    lines: list[str] = []
    for i in incidents:
        if i.closed_at is not None:
            state = f"closed {utc_label(i.closed_at)} by {i.closed_by}"
        elif i.deadline is not None and i.deadline < now:
            state = f"OVERDUE: {i.action} was due {utc_label(i.deadline)}"
        else:
            due = f" by {utc_label(i.deadline)}" if i.deadline else ""
            state = f"open: {i.action}{due}"
        lines.append(f"{i.id:>4}  {i.severity:<8} {i.impact:g}%  {i.environment or ALL:<12} "
                     f"{i.title}  — {state}")
    data = [{"id": i.id, "title": i.title, "severity": i.severity, "impact": i.impact,
             "environment": i.environment, "action": i.action,
             "deadline": i.deadline.isoformat() if i.deadline else None,
             "opened_at": i.opened_at.isoformat(),
             "closed_at": i.closed_at.isoformat() if i.closed_at else None} for i in incidents]
    _emit(g, data, "\n".join(lines) if lines else "no incidents")
    return Exit.OK


def campaign_add(g: Globals, name: str, *, at: str, buffer: str | None, env: str) -> int:
    when = parse_time(at, "--at")
    return _done(g, calendar.add_campaign(g.workspace, g.actor, name, at=when, buffer=buffer, env=env))


def campaign_list(g: Globals) -> int:
    campaigns = calendar.list_campaigns(g.workspace, g.actor)
    lines = [
        f"{c.id:>4}  {utc_label(c.at)}  ±{human_duration(timedelta(seconds=c.buffer_s))}  "
        f"{c.environment or ALL:<12} {c.name}"
        for c in campaigns
    ]
    data = [{"id": c.id, "name": c.name, "at": c.at.isoformat(), "buffer_s": c.buffer_s,
             "environment": c.environment} for c in campaigns]
    _emit(g, data, "\n".join(lines) if lines else "no campaigns")
    return Exit.OK
