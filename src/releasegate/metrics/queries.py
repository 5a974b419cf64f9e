"""The SQL behind every figure (SQLAlchemy Core; the same statements on both backends).

Words, as docs/metrics.md defines them:

* an **attempt** is a run of kind normal, major or hotfix that ended ``succeeded``,
  ``failed``, ``rolled_back`` or ``rollback_failed`` (check runs and cancelled runs are not);
* a **deployment** is an attempt that reached its deploy phase (an attempt ``failed`` at
  its gates changed nothing);
* a **rollback run** is a run of kind rollback (``releasegate rollback``) that ended;
* a deployment **failed in production** when it ended failed, rolled_back or
  rollback_failed, or later a successful rollback run undid it, or a failure is linked to
  it (an incident it caused, a hotfix that repaired it, a failed verification).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CompoundSelect, and_, case, exists, func, or_, select, union_all
from sqlalchemy.sql import ColumnElement, Select

from releasegate.metrics.sql import (
    deployments,
    earliest,
    incidents,
    indexed,
    seconds_between,
    step_runs,
    week_of,
)
from releasegate.store.facts_records import (
    defects,
    failure_links,
    outages,
    release_changes,
    release_facts,
)

CHANGE_KINDS = ("normal", "major", "hotfix")
ENDED = ("succeeded", "failed", "rolled_back", "rollback_failed")
FAILED_STEP = ("failed", "timed_out")
UNDO_PHASES = ("deploy:undo", "rollback")


@dataclass(frozen=True)
class Scope:
    """Which records a figure reads: a project (None: all), an environment (None: all),
    runs that finished in ``[since, until)``."""

    project: str | None
    environment: str | None
    since: datetime
    until: datetime
    include_unlabelled: bool = False
    """Count runs without a project (recorded before projects were) as ``project``'s."""


def _project(col: ColumnElement[Any], scope: Scope) -> list[ColumnElement[bool]]:
    if scope.project is None:
        return []
    if scope.include_unlabelled:
        return [or_(col == scope.project, col.is_(None))]
    return [col == scope.project]


def in_scope(d: Any, scope: Scope) -> list[ColumnElement[bool]]:
    """Conditions on a deployments alias: project, environment, finished in the period."""
    found = _project(d.c.project, scope)
    if scope.environment is not None:
        found.append(d.c.environment == scope.environment)
    found += [d.c.finished_at >= scope.since, d.c.finished_at < scope.until]
    return found


def _reached_deploy(d: Any) -> ColumnElement[bool]:
    return exists().where(
        step_runs.c.deployment_id == d.c.id,
        step_runs.c.phase == "deploy",
        step_runs.c.status != "skipped",
    )


def is_deployment(d: Any) -> ColumnElement[bool]:
    """An attempt that reached its deploy phase (evaluated lazily: only ``failed`` looks)."""
    return and_(
        d.c.kind.in_(CHANGE_KINDS),
        d.c.status.in_(ENDED),
        or_(d.c.status != "failed", _reached_deploy(d)),
    )


def _undone_ids() -> Select[Any]:
    """Ids of deployments a successful rollback run undid: a range of the covering
    (rollback_of, kind, status) index. The status is compared through coalesce() so the
    planner cannot pick the (environment, status) index instead, whose statistics do not
    say that few runs have a rollback_of (it then read every succeeded run)."""
    r = deployments.alias("r")
    return select(r.c.rollback_of).where(
        r.c.rollback_of.is_not(None), r.c.kind == "rollback",
        func.coalesce(r.c.status, "") == "succeeded",
    )


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def outcome_counts(scope: Scope) -> Select[Any]:
    """Rows ``(kind, status, n)`` of the runs that ended in the period. Grouped along
    ``ix_deployments_outcome`` (status, kind, finished_at, …): the groups come in index
    order, so a million runs are counted without sorting them."""
    d = (indexed(deployments, "d", "ix_deployments_outcome") if walks(scope)
         else deployments.alias("d"))
    return (
        select(d.c.kind, d.c.status, func.count().label("n"))
        .where(d.c.status.in_(ENDED), *in_scope(d, scope))
        .group_by(d.c.status, d.c.kind)
    )


def failures_deployed(scope: Scope) -> Select[Any]:
    """Rows ``(kind, n)``: runs of the period that ended ``failed`` after reaching their
    deploy phase (the others stopped at their gates and changed nothing)."""
    d = deployments.alias("d")
    return (
        select(d.c.kind, func.count().label("n"))
        .where(d.c.status == "failed", *in_scope(d, scope), _reached_deploy(d))
        .group_by(d.c.kind)
    )


def bad_later(scope: Scope) -> Select[Any]:
    """``(undone, bad)``: succeeded deployments of the period that a successful rollback
    run undid later, and those undone or linked to a failure. Across projects read from
    the two id sets (primary-key look-ups), not from every run of the period; for one
    project from its own runs."""
    d = deployments.alias("d")
    ours = [d.c.status == "succeeded", d.c.kind.in_(CHANGE_KINDS), *in_scope(d, scope)]
    if not walks(scope):
        # a project's succeeded runs are few: each looked up in the two indexes
        r = deployments.alias("r")
        undone: ColumnElement[bool] = exists().where(
            r.c.rollback_of == d.c.id, r.c.kind == "rollback", r.c.status == "succeeded")
        linked = exists().where(failure_links.c.deployment_id == d.c.id)
        flags: list[ColumnElement[Any]] = [
            func.coalesce(func.sum(_flag(undone)), 0),
            func.coalesce(func.sum(_flag(or_(undone, linked))), 0),
        ]
        return select(*flags).where(*ours)
    undone = d.c.id.in_(_undone_ids())
    counts: list[ColumnElement[Any]] = [func.coalesce(func.sum(_flag(undone)), 0), func.count()]
    return select(*counts).where(
        d.c.id.in_(_undone_ids().union(select(failure_links.c.deployment_id))), *ours,
    )


def lead_times(scope: Scope) -> Select[Any]:
    """Each change's lead time in seconds (first commit to its release going live in the
    period, stored when it went live); NULL for a change whose commit is dated after that
    (clock skew: left out, counted). For a project, from its releases (an index range);
    across projects, along ``ix_release_changes_lead`` (see :func:`walks`)."""
    if scope.project is None:
        rc = indexed(release_changes, "rc", "ix_release_changes_lead")
        conditions = [rc.c.live_at >= scope.since, rc.c.live_at < scope.until]
        if scope.environment is not None:
            conditions.append(rc.c.release_id.in_(
                select(release_facts.c.id).where(release_facts.c.environment == scope.environment)
            ))
        return select(rc.c.lead_s).where(*conditions)
    conditions = [release_facts.c.live_at >= scope.since, release_facts.c.live_at < scope.until]
    conditions.append(release_facts.c.project == scope.project)
    if scope.environment is not None:
        conditions.append(release_facts.c.environment == scope.environment)
    joined = release_changes.join(release_facts, release_facts.c.id == release_changes.c.release_id)
    return select(release_changes.c.lead_s).select_from(joined).where(*conditions)


def durations(scope: Scope) -> Select[Any]:
    """Seconds from start to finish of each succeeded deployment (stored when it finished).
    Across projects along ``ix_deployments_duration`` (see :func:`walks`)."""
    d = (indexed(deployments, "d", "ix_deployments_duration") if walks(scope)
         else deployments.alias("d"))
    return select(d.c.duration_s).where(
        *in_scope(d, scope), d.c.kind.in_(CHANGE_KINDS), d.c.status == "succeeded",
        d.c.duration_s.is_not(None),
    )


def walks(scope: Scope) -> bool:
    """Whether percentiles are found by walking the figure's index (:func:`value_at`)
    rather than by sorting the values: across projects, where the values are hundreds of
    thousands; for one project a range of its own rows is sorted faster than an index of
    everyone's is walked."""
    return scope.project is None


def _next_success(d: Any, alias: str, *, unlabelled: bool) -> ColumnElement[Any]:
    """When the environment of ``d`` next ended a run successfully (any kind), after ``d``.
    One subquery per project case keeps each a range scan of the (project, finished_at,
    environment, …) index: an OR on the project would not use it."""
    n = deployments.alias(alias)
    project = n.c.project.is_(None) if unlabelled else n.c.project == d.c.project
    return (
        select(func.min(n.c.finished_at))
        .where(project, n.c.environment == d.c.environment, n.c.status == "succeeded",
               n.c.finished_at > d.c.finished_at)
        .scalar_subquery()
    )


def recoveries(scope: Scope) -> Select[Any] | CompoundSelect[Any]:
    """``(failed_at, recovered_at, week)`` for each deployment that failed in production
    in the period; ``recovered_at`` is NULL while it is not recovered."""
    d = deployments.alias("d")
    r = deployments.alias("r")
    h = deployments.alias("h")
    first_failed_step = (
        select(func.min(step_runs.c.finished_at))
        .where(
            step_runs.c.deployment_id == d.c.id,
            step_runs.c.status.in_(FAILED_STEP),
            step_runs.c.phase.in_(("deploy", "post")),
        )
        .scalar_subquery()
    )
    # a failure verification found (a rollback.when trigger) is no failed step: it was
    # found when the undo began
    undo_started = (
        select(func.min(step_runs.c.started_at))
        .where(step_runs.c.deployment_id == d.c.id, step_runs.c.phase.in_(UNDO_PHASES))
        .scalar_subquery()
    )
    linked_incidents = failure_links.join(incidents, incidents.c.id == failure_links.c.incident_id)
    incident_opened = (
        select(func.min(incidents.c.opened_at)).select_from(linked_incidents)
        .where(failure_links.c.deployment_id == d.c.id).scalar_subquery()
    )
    # all linked incidents closed: the last closing; any still open: NULL
    incidents_closed = (
        select(case((func.count() == func.count(incidents.c.closed_at), func.max(incidents.c.closed_at))))
        .select_from(linked_incidents)
        .where(failure_links.c.deployment_id == d.c.id)
        .having(func.count() > 0)
        .correlate(d)  # explicitly: earliest() nests it two levels down
        .scalar_subquery()
    )
    next_healthy = case(
        (d.c.project.is_(None), _next_success(d, "n0", unlabelled=True)),
        else_=_next_success(d, "n1", unlabelled=False),
    )
    undone_at = (
        select(func.min(r.c.finished_at))
        .where(r.c.rollback_of == d.c.id, r.c.kind == "rollback", r.c.status == "succeeded")
        .correlate(d)
        .scalar_subquery()
    )
    hotfixed_at = (
        select(func.min(h.c.finished_at))
        .select_from(failure_links.join(h, h.c.id == failure_links.c.fixed_by))
        .where(failure_links.c.deployment_id == d.c.id, h.c.status == "succeeded")
        .correlate(d)
        .scalar_subquery()
    )
    failed_run = d.c.status != "succeeded"
    failed_at = case(
        (failed_run, func.coalesce(first_failed_step, undo_started, d.c.finished_at)),
        else_=func.coalesce(incident_opened, d.c.finished_at),
    )
    recovered_at = case(
        (d.c.status == "rolled_back", d.c.finished_at),
        (failed_run, next_healthy),
        else_=earliest(undone_at, hotfixed_at, incidents_closed),
    )
    bad_later = or_(
        d.c.id.in_(_undone_ids()),
        d.c.id.in_(select(failure_links.c.deployment_id)),
    )
    columns = (failed_at.label("failed_at"), recovered_at.label("recovered_at"),
               week_of(d.c.finished_at).label("week"))
    if not walks(scope):
        return select(*columns).where(*in_scope(d, scope), is_deployment(d), or_(failed_run, bad_later))
    # across projects, two statements that each start from few rows: the failed runs of the
    # period (a range of ix_deployments_outcome by status), and the succeeded ones found
    # bad later (from the two id sets, by primary key). As one statement with the id sets
    # OR-ed, PostgreSQL read every run of the period to hash-join them.
    failed = select(*columns).where(
        d.c.status.in_(("failed", "rolled_back", "rollback_failed")), *in_scope(d, scope),
        is_deployment(d),
    )
    later = select(*columns).where(
        d.c.id.in_(_undone_ids().union(select(failure_links.c.deployment_id))),
        d.c.status == "succeeded", d.c.kind.in_(CHANGE_KINDS), *in_scope(d, scope),
    )
    return union_all(failed, later)


def recovery_seconds(scope: Scope) -> Select[Any]:
    """Seconds from failure to recovery of each failure in the period (NULL: ongoing)."""
    rows = recoveries(scope).subquery("f")
    return select(seconds_between(rows.c.recovered_at, rows.c.failed_at))


def incident_repairs(scope: Scope) -> Select[Any]:
    """``(n, mean seconds)`` from opening to closing of incidents opened in the period."""
    conditions = [incidents.c.opened_at >= scope.since, incidents.c.opened_at < scope.until,
                  incidents.c.closed_at.is_not(None)]
    if scope.project is not None:
        # an incident is the project's when recorded so, or linked to one of its deployments
        d = deployments.alias("d")
        linked = exists(
            select(failure_links.c.id)
            .join(d, d.c.id == failure_links.c.deployment_id)
            .where(failure_links.c.incident_id == incidents.c.id, *_project(d.c.project, scope))
        )
        conditions.append(or_(*_project(incidents.c.project, scope), linked))
    if scope.environment is not None:
        # an incident without an environment concerns every environment
        conditions.append(or_(incidents.c.environment == scope.environment,
                              incidents.c.environment.is_(None)))
    return select(
        func.count(), func.avg(seconds_between(incidents.c.closed_at, incidents.c.opened_at))
    ).where(*conditions)


def downtime(scope: Scope) -> Select[Any]:
    """``(seconds, deployments with downtime)`` recorded as outages of deployments."""
    d = deployments.alias("d")
    total: ColumnElement[Any] = func.coalesce(
        func.sum(seconds_between(outages.c.ended_at, outages.c.started_at)), 0.0
    )
    return (
        select(
            total,
            func.count(func.distinct(outages.c.deployment_id)),
        )
        .select_from(outages.join(d, d.c.id == outages.c.deployment_id))
        .where(*in_scope(d, scope), d.c.kind.in_(CHANGE_KINDS))
    )


def defect_counts(scope: Scope) -> Select[Any]:
    """``(kind, n)`` of defects recorded against deployments of the period. Across
    projects from the defects, each deployment checked by its id (the defects are far
    fewer than the runs); for a project from its runs."""
    d = deployments.alias("d")
    if walks(scope):
        recorded = exists().where(d.c.id == defects.c.deployment_id, *in_scope(d, scope),
                                  is_deployment(d))
        return select(defects.c.kind, func.count()).where(recorded).group_by(defects.c.kind)
    return (
        select(defects.c.kind, func.count())
        .select_from(defects.join(d, d.c.id == defects.c.deployment_id))
        .where(*in_scope(d, scope), is_deployment(d))
        .group_by(defects.c.kind)
    )


def coverage(scope: Scope) -> Select[Any]:
    """The newest coverage figure a ``coverage`` step recorded in the period (check runs
    count: their gates ran). For a project, from its runs (an index range); across
    projects, from the newest step runs backwards, each checked against the period by its
    deployment's id (a correlated EXISTS: as a join, the planners read every run of the
    period first), so it stops at the first figure."""
    d = deployments.alias("d")
    percent = step_runs.c.evidence["coverage_percent"].as_float()
    if scope.project is None:
        in_period = exists().where(d.c.id == step_runs.c.deployment_id, *in_scope(d, scope))
        return (
            select(percent)
            .where(step_runs.c.status == "succeeded", percent.is_not(None), in_period)
            .order_by(step_runs.c.id.desc())
            .limit(1)
        )
    return (
        select(percent)
        .select_from(step_runs.join(d, d.c.id == step_runs.c.deployment_id))
        .where(*in_scope(d, scope), step_runs.c.status == "succeeded", percent.is_not(None))
        .order_by(step_runs.c.finished_at.desc(), step_runs.c.id.desc())
        .limit(1)
    )


def weekly_outcomes(scope: Scope) -> Select[Any]:
    """``(week, kind, status, reached, n)`` for the report's chart."""
    d = deployments.alias("d")
    reached = case((d.c.status != "failed", 1), (_reached_deploy(d), 1), else_=0)
    week = week_of(d.c.finished_at)
    return (
        select(week.label("week"), d.c.kind, d.c.status, reached.label("reached"),
               func.count().label("n"))
        .where(*in_scope(d, scope), d.c.status.in_(ENDED))
        .group_by(week, d.c.kind, d.c.status, reached)
        .order_by(week)
    )

