"""The records that count: metrics, the report, defects, the announcement, backup retention.

Every figure is computed from the store by :mod:`releasegate.metrics`; this module picks
the scope (the config's project, an environment, a period), checks who may change
anything, and records what it changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from releasegate.errors import UsageError
from releasegate.identity import Actor
from releasegate.service.auth import authorize
from releasegate.service.inputs import check_environment
from releasegate.service.results import Done
from releasegate.service.workspace import Workspace

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from releasegate.metrics.model import MetricsReport
    from releasegate.metrics.retention import BackupItem, PrunePlan
    from releasegate.store.api import Store

ALL = "all"
"""``--env all`` / ``--project all``: no filter."""


def sql_engine(store: Store) -> Engine:
    """The store's SQLAlchemy engine, for the metrics' own SQL."""
    # the metrics read the tables directly in SQL (one snapshot, aggregate queries)
    return store.sql_engine


def parse_since(text: str, now: datetime, option: str = "--since") -> datetime:
    """``90d``, ``12w``, ``36h`` back from ``now``, or an ISO 8601 time (UTC if no offset)."""
    from releasegate.config.types import parse_duration
    from releasegate.service.explain import parse_time

    try:
        return now - parse_duration(text.strip())
    except ValueError:
        pass
    if text.strip()[:1].isdigit() and "-" in text:
        try:
            return parse_time(text, option)
        except OverflowError:  # 0001-01-01T00:00+14:00 is before the first UTC datetime
            raise UsageError(f"{option}: {text!r} is out of range") from None
    raise UsageError(f"{option}: {text!r} is neither a duration (e.g. 90d) nor an ISO 8601 time")


@dataclass(frozen=True)
class Scope:
    """Which records a figure covers: ``project`` and ``environment`` None mean all."""

    project: str | None
    environment: str | None
    since: datetime
    until: datetime
    include_unlabelled: bool


def scope(
    ws: Workspace, *, project: str | None = None, env: str | None = None, since: str = "90d",
    until: str | None = None, now: datetime | None = None,
) -> Scope:
    """The scope the options name. The project defaults to the config's (deployments
    recorded before projects were, without one, count as its own); the environment to
    ``production`` when the config has one, else all."""
    now = now or datetime.now(UTC)
    end = now if until is None else parse_since(until, now, "--until")
    start = parse_since(since, end)
    if start >= end:
        raise UsageError(f"--since: the period is empty ({start:%Y-%m-%d %H:%M} is not before "
                         f"{end:%Y-%m-%d %H:%M} UTC)")
    own = ws.config.project
    chosen_project = own if project is None else (None if project == ALL else project)
    names = list(ws.config.environments)
    if env is None:
        chosen_env = "production" if "production" in names else None
    elif env == ALL:
        chosen_env = None
    else:
        check_environment(names, env)
        chosen_env = env
    return Scope(chosen_project, chosen_env, start, end, include_unlabelled=chosen_project == own)


def metrics(ws: Workspace, actor: Actor, where: Scope) -> MetricsReport:
    """Every figure of ``where``, graded against ``metrics.targets`` (read-only)."""
    from releasegate.metrics.compute import compute_metrics

    return compute_metrics(
        sql_engine(ws.store), project=where.project, environment=where.environment,
        since=where.since, until=where.until, targets=ws.config.metrics,
        include_unlabelled=where.include_unlabelled,
    )


def write_report(ws: Workspace, actor: Actor, where: Scope, out: Path | None = None) -> Path:
    """Write the self-contained HTML report of ``where`` into ``out`` (default: the
    directory the config is in, under ``reports/``) and return its path."""
    from releasegate.metrics.report import write_report as write

    folder = out if out is not None else ws.root / "reports"
    return write(
        sql_engine(ws.store), folder, project=where.project, environment=where.environment,
        since=where.since, until=where.until, targets=ws.config.metrics,
        include_unlabelled=where.include_unlabelled,
    )


KINDS = ("bug", "security", "performance", "complaint")


def add_defect(ws: Workspace, actor: Actor, deployment_id: int, *, kind: str, note: str = "") -> Done:
    """Record a bug, security issue, performance regression or customer complaint against
    a deployment (needs ``defect.add``)."""
    authorize(ws.config, actor, "defect.add")
    if kind not in KINDS:
        raise UsageError(f"--kind: {kind!r} is not one of {', '.join(KINDS)}")
    if ws.store.get_deployment(deployment_id) is None:
        raise UsageError(f"there is no deployment {deployment_id}")
    defect_id = ws.store.add_defect(deployment_id, kind=kind, note=note, user=actor.name)
    return Done(defect_id, f"{kind} {defect_id} recorded against deployment {deployment_id} "
                f"by {actor.name}", {"deployment": deployment_id, "kind": kind, "note": note})


def announcement(ws: Workspace, actor: Actor, deployment_id: int) -> str:
    """The checklist's deployment announcement of one deployment, from its records, in
    the config's ``announcement.template`` (else the built-in text); the environment's URL
    and ``announcement.links`` are its links. Read-only: anyone may."""
    return _render(ws, deployment_id)


def _render(ws: Workspace, deployment_id: int) -> str:
    from releasegate.metrics.announcement import announcement_facts, render_announcement

    dep = ws.store.get_deployment(deployment_id)
    if dep is None:
        raise UsageError(f"there is no deployment {deployment_id}")
    settings = ws.config.announcement
    env = ws.config.environments.get(dep.environment)
    links = {"Service": env.url} if env is not None and env.url else {}
    links.update(settings.links)
    template = _announcement_template(ws)
    with sql_engine(ws.store).connect() as conn:
        facts = announcement_facts(conn, deployment_id, links=links)
    return render_announcement(facts, template)


def _announcement_template(ws: Workspace) -> str | None:
    """The team's template text (None: the built-in); a missing file or a syntax error is
    a ConfigError naming the file and line."""
    from releasegate.drivers.notifiers.messages import load_template

    name = ws.config.announcement.template
    return load_template(ws.root / name) if name else None


def announcement_or_none(ws: Workspace, deployment_id: int) -> str | None:
    """The announcement for a notification: None, never an error, when it cannot be
    rendered (the notification then says what it says without it); why is recorded."""
    from releasegate.errors import ReleasegateError

    try:
        return _render(ws, deployment_id)
    except ReleasegateError as exc:
        ws.store.append_event("announcement.failed", {"reason": str(exc)}, deployment_id=deployment_id)
        return None


# -- backups ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pruned:
    """What ``backups prune`` did (or, with ``dry_run``, would do)."""

    plan: PrunePlan
    moved: dict[int, str | None]
    """Backup id → where it went (None: deleted); empty on a dry run."""
    destination: str | None
    dry_run: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run, "destination": self.destination,
            "expired": [b.id for b in self.plan.expired],
            "kept": [{"id": b.id, "reason": self.plan.reasons.get(b.id)} for b in self.plan.keep],
            "moved": {str(k): v for k, v in self.moved.items()},
        }


def _archived(store: Store) -> dict[int, str | None]:
    """Backups a former prune moved away (their records keep the old place)."""
    done: dict[int, str | None] = {}
    for event in store.list_events(types=("backups.pruned",)):
        moved = event.data.get("moved")
        if isinstance(moved, dict):
            done.update({int(k): v if isinstance(v, str) else None for k, v in moved.items()})
    return done


def list_backups(ws: Workspace, actor: Actor) -> tuple[list[BackupItem], dict[int, str | None]]:
    """Backups still in place (with whether each is good), and those archived before."""
    from releasegate.metrics.retention import BackupItem, is_good

    store = ws.store
    gone = _archived(store)
    envs: dict[int, str] = {}
    items: list[BackupItem] = []
    for b in store.list_backups():
        if b.id in gone:
            continue
        env = b.source
        if b.deployment_id is not None:
            if b.deployment_id not in envs:
                dep = store.get_deployment(b.deployment_id)
                envs[b.deployment_id] = dep.environment if dep else b.source
            env = envs[b.deployment_id]
        if b.location.startswith("s3://"):
            location = b.location
        else:
            location = str(Path(b.location) if Path(b.location).is_absolute() else ws.root / b.location)
        items.append(BackupItem(b.id, env, location, b.created_at, is_good(location, b.checksum)))
    return items, gone


def prune_backups(
    ws: Workspace, actor: Actor, *, dry_run: bool = False, now: datetime | None = None
) -> Pruned:
    """Archive (``backups.archive``) or delete backups older than ``backups.keep_days``,
    never the newest good backup of an environment. Needs ``backups.prune``."""
    from releasegate.errors import DriverError
    from releasegate.metrics.retention import archive, plan_prune

    authorize(ws.config, actor, "backups.prune")
    settings = ws.config.backups
    items, _ = list_backups(ws, actor)
    plan = plan_prune(items, settings.keep_days, now or datetime.now(UTC))
    if dry_run or not plan.expired:
        return Pruned(plan, {}, settings.archive, dry_run)
    try:
        moved = archive(plan.expired, settings.archive, workdir=ws.root)
    except DriverError as exc:
        # what moved before the failure is recorded: the records must say where it is now
        partial = getattr(exc, "done", [])
        _record_prune(ws, actor, {a.id: a.moved_to for a in partial}, settings.archive, str(exc))
        raise
    done = {a.id: a.moved_to for a in moved}
    _record_prune(ws, actor, done, settings.archive, None)
    return Pruned(plan, done, settings.archive, False)


def _record_prune(
    ws: Workspace, actor: Actor, moved: dict[int, str | None], destination: str | None,
    error: str | None,
) -> None:
    if not moved and error is None:
        return
    ws.store.append_event("backups.pruned", {
        "moved": {str(k): v for k, v in moved.items()}, "destination": destination,
        "user": actor.name, "error": error,
    })
