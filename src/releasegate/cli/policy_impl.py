"""Implementation of policy explain, approve, freeze, incident, campaign."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from releasegate.cli.context import Globals
from releasegate.cli.exit_codes import Exit
from releasegate.cli.policy_facts import ALL, approval_fact, policy_facts_from_store
from releasegate.config.timespec import did_you_mean
from releasegate.config.types import parse_duration
from releasegate.errors import ConfigError
from releasegate.policy.api import check_deploy, incident_action, parse_impact, validate_approval
from releasegate.policy.freezes import SEVERITIES, severity_rank
from releasegate.policy.labels import human_duration, utc_label

if TYPE_CHECKING:
    from releasegate.config.models import Config
    from releasegate.store.api import Store


def parse_time(text: str, option: str) -> datetime:
    """An ISO 8601 time from the command line; without an offset it is UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"{option}: {text!r} is not a time (write ISO 8601, e.g. 2026-11-10T10:00:00Z)"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _check_env(config: Config, env: str, *, allow_all: bool = False) -> str | None:
    if allow_all and env == ALL:
        return None
    if env not in config.environments:
        names = list(config.environments)
        extra = " or 'all'" if allow_all else ""
        raise ConfigError(
            f"unknown environment {env!r}{did_you_mean(env, names)} (known: {', '.join(names)}{extra})"
        )
    return env


@contextmanager
def _store(g: Globals) -> Iterator[Store]:
    store = g.open_store()
    try:
        yield store
    finally:
        store.close()


def _emit(g: Globals, data: object, text: str) -> None:
    print(json.dumps(data, indent=2, default=str) if g.json else text)


def explain(g: Globals, env: str, *, at: str | None, version: str | None, kind: str) -> int:
    now = parse_time(at, "--at") if at is not None else datetime.now(UTC)
    config = g.load_config()
    _check_env(config, env)
    with _store(g) as store:
        facts = policy_facts_from_store(
            store, env, version=version, promote_from=config.environments[env].promote_from
        )
    decision = check_deploy(config, env, version, kind, g.user, facts, now)
    _emit(g, decision.to_json(), decision.explain())
    return Exit.OK if decision.allowed else Exit.BLOCKED


def approve(g: Globals, env: str, version: str, *, role: str, note: str | None) -> int:
    config = g.load_config()
    _check_env(config, env)
    with _store(g) as store:
        existing = [approval_fact(a) for a in store.list_approvals(env, version)]
        active = [
            d for d in store.list_deployments(environment=env, limit=50)
            if d.version == version and d.status in ("pending", "running")
        ]
        deployer = active[0].user if active else None
        validate_approval(config, env, version, role, g.user, existing, deployer=deployer)
        record = store.add_approval(environment=env, version=version, role=role, user=g.user, note=note)
    rules = config.environments[env].approvals
    signed = {a.role for a in existing} | {role}
    missing = [r for r in (rules.roles if rules else []) if r not in signed]
    tail = f"; still needed: {', '.join(missing)}" if missing else "; every role has signed"
    text = f"approval {record.id}: {g.user} approved {version} for {env} as {role}{tail}"
    _emit(g, {"id": record.id, "environment": env, "version": version, "role": role,
              "user": g.user, "note": note, "missing": missing}, text)
    return Exit.OK


def freeze_add(g: Globals, *, env: str, start: str, end: str, reason: str, hard: bool) -> int:
    begins, ends = parse_time(start, "--from"), parse_time(end, "--to")
    if ends <= begins:
        raise ConfigError(f"--to: {end!r} is not after --from {start!r}")
    if not reason.strip():
        raise ConfigError("--reason: say why deployments are frozen")
    config = g.load_config()
    target = _check_env(config, env, allow_all=True)
    with _store(g) as store:
        record = store.add_freeze(
            environment=target, start=begins, end=ends, reason=reason, hard=hard, user=g.user
        )
    kind = "hard freeze" if hard else "freeze"
    text = (f"{kind} {record.id}: {target or 'all environments'} from {utc_label(begins)} "
            f"to {utc_label(ends)}: {reason}")
    _emit(g, {"id": record.id, "environment": target, "start": begins.isoformat(),
              "end": ends.isoformat(), "reason": reason, "hard": hard}, text)
    return Exit.OK


def freeze_list(g: Globals) -> int:
    with _store(g) as store:
        freezes = store.list_freezes()
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
    with _store(g) as store:
        store.remove_freeze(id, user=g.user)
    _emit(g, {"id": id, "removed_by": g.user}, f"freeze {id} removed by {g.user}")
    return Exit.OK


def incident_open(g: Globals, title: str, *, severity: str, impact: str, env: str) -> int:
    if severity not in SEVERITIES:
        raise ConfigError(
            f"--severity: {severity!r} is not a severity (use {', '.join(SEVERITIES)})"
            f"{did_you_mean(severity, SEVERITIES)}"
        )
    share = parse_impact(impact)
    config = g.load_config()
    target = _check_env(config, env, allow_all=True)
    action = incident_action(config, severity, share, datetime.now(UTC))
    with _store(g) as store:
        record = store.open_incident(
            title=title, severity=severity, impact=share, environment=target, user=g.user,
            action=action.action, deadline=action.deadline,
        )
    lines = [f"incident {record.id} opened: {title}",
             f"action: {action.action} within {human_duration(action.within)} "
             f"(deadline {utc_label(action.deadline)})"]
    frozen = [
        name for name, e in config.environments.items()
        if "incidents" in e.freezes and (target is None or name == target)
    ]
    if frozen and severity_rank(severity) >= severity_rank(config.incidents.freeze_at):
        lines.append(f"deployments to {', '.join(frozen)} are frozen until it is closed")
    _emit(g, {"id": record.id, "title": title, "severity": severity, "impact": share,
              "environment": target, "action": action.action,
              "deadline": action.deadline.isoformat(), "frozen": frozen}, "\n".join(lines))
    return Exit.OK


def incident_close(g: Globals, id: int, *, note: str | None) -> int:
    with _store(g) as store:
        record = store.close_incident(id, user=g.user, note=note)
    took = human_duration((record.closed_at or record.opened_at) - record.opened_at)
    _emit(g, {"id": id, "closed_by": g.user, "note": note},
          f"incident {id} closed by {g.user} after {took}")
    return Exit.OK


def incident_list(g: Globals, *, include_closed: bool) -> int:
    with _store(g) as store:
        incidents = store.list_incidents(include_closed=include_closed)
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
    config = g.load_config()
    target = _check_env(config, env, allow_all=True)
    try:
        span = parse_duration(buffer) if buffer is not None else config.campaigns.buffer
    except ValueError as exc:
        raise ConfigError(f"--buffer: {exc}") from None
    with _store(g) as store:
        record = store.add_campaign(
            name=name, at=when, buffer_s=span.total_seconds(), environment=target, user=g.user
        )
    text = (f"campaign {record.id}: {name} at {utc_label(when)}; no deployments to "
            f"{target or 'any environment'} from {utc_label(when - span)} to {utc_label(when + span)}")
    _emit(g, {"id": record.id, "name": name, "at": when.isoformat(),
              "buffer_s": span.total_seconds(), "environment": target}, text)
    return Exit.OK


def campaign_list(g: Globals) -> int:
    with _store(g) as store:
        campaigns = store.list_campaigns()
    lines = [
        f"{c.id:>4}  {utc_label(c.at)}  ±{human_duration(timedelta(seconds=c.buffer_s))}  "
        f"{c.environment or ALL:<12} {c.name}"
        for c in campaigns
    ]
    data = [{"id": c.id, "name": c.name, "at": c.at.isoformat(), "buffer_s": c.buffer_s,
             "environment": c.environment} for c in campaigns]
    _emit(g, data, "\n".join(lines) if lines else "no campaigns")
    return Exit.OK
