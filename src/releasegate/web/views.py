"""What the pages show, gathered from the use cases (no HTML here)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from releasegate.identity import Actor, may
from releasegate.service import browse, explain, queue_board, records
from releasegate.service.workspace import Workspace

ACTIVE = ("pending", "running", "rolling_back", "interrupted")
_AT_PREFIX = re.compile(r"^(\w{3} )?\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?( UTC)? (is )?")
MATRIX_DEPLOYMENTS = 300
"""How many recent deployments the matrix reads for its version columns."""
MATRIX_VERSIONS = 8


@dataclass
class Tile:
    """One environment's row of the matrix."""

    name: str
    live: str | None
    locked_by: str | None
    allowed_now: bool
    next_allowed_at: str | None
    note: str | None
    freezes: list[str]
    attention: str | None
    waiting: str | None = None
    """A version that succeeded where this environment promotes from, and is not live here."""
    approve_roles: list[str] = field(default_factory=list)
    """The roles the signed-in person may approve a version of this environment in."""
    cells: dict[str, dict[str, Any]] = field(default_factory=dict)
    queued: list[dict[str, Any]] = field(default_factory=list)
    """Team mode: this environment's queued deployments that have not ended, oldest first."""


@dataclass
class Matrix:
    versions: list[str]
    tiles: list[Tile]
    deploying: list[dict[str, Any]]
    queue: list[dict[str, Any]] = field(default_factory=list)
    """Team mode: queued deployments not yet a deployment here (queued, waiting, starting
    on a worker), oldest first."""
    on_worker: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Deployment id → the queued deployment a worker runs it for."""
    may_cancel: bool = False


def matrix(ws: Workspace, actor: Actor) -> Matrix:
    """Environments × versions: each cell the latest deployment of that version there."""
    recent = browse.deployments(ws, actor, limit=MATRIX_DEPLOYMENTS)
    versions: list[str] = []
    for d in recent:
        if d["version"] not in versions and d["kind"] != "rollback":
            versions.append(d["version"])
    versions = versions[:MATRIX_VERSIONS]
    status = records.status(ws, actor)
    tiles: list[Tile] = []
    for row in status.environments:
        decision = explain.explain(ws, actor, row.environment).decision
        tile = Tile(
            name=row.environment, live=row.live_version, locked_by=row.locked_by,
            allowed_now=decision.allowed,
            next_allowed_at=decision.next_allowed_at.isoformat() if decision.next_allowed_at else None,
            note=decision.next_allowed_note or None,
            freezes=[r.reason for r in decision.denied if r.rule.startswith("freeze")],
            attention=row.attention,
        )
        for d in recent:
            if d["environment"] == row.environment and d["version"] in versions:
                tile.cells.setdefault(d["version"], d)
        tile.approve_roles = _approver_roles(ws, actor, row.environment)
        tiles.append(tile)
    _promotions(ws, tiles)
    found = Matrix(versions, tiles, [d for d in recent if d["status"] in ACTIVE])
    _queue(ws, actor, found)
    return found


def _queue(ws: Workspace, actor: Actor, found: Matrix) -> None:
    """Team mode's queue on the matrix: what waits (and why), what a worker runs."""
    board = list(reversed(queue_board.board_or_empty(ws, actor)))
    by_env = {t.name: t for t in found.tiles}
    active = {d["id"] for d in found.deploying}
    for q in board:
        if q["environment"] in by_env:
            by_env[q["environment"]].queued.append(q)
        if q["deployment_id"] in active:
            found.on_worker[q["deployment_id"]] = q
        else:
            found.queue.append(q)
    found.may_cancel = bool(board) and may(ws.config, actor, "cancel")


def _promotions(ws: Workspace, tiles: list[Tile]) -> None:
    by_name = {t.name: t for t in tiles}
    for tile in tiles:
        source = ws.config.environments[tile.name].promote_from
        if source and source in by_name:
            candidate = by_name[source].live
            if candidate and candidate != tile.live:
                tile.waiting = candidate


def _approver_roles(ws: Workspace, actor: Actor, env: str) -> list[str]:
    config = ws.config
    rules = config.environments[env].approvals
    if rules is None or not rules.roles or not may(config, actor, "approve"):
        return []
    return [r for r in rules.roles if actor.single_person or r in actor.roles]


@dataclass
class Buttons:
    """What the signed-in person may press on a deployment's page."""

    approve_roles: list[str]
    confirm_items: list[str]


def buttons(ws: Workspace, actor: Actor, shown: dict[str, Any], waiting: list[str]) -> Buttons:
    """Approve for each role the person holds that the environment still needs; sign each
    item the deployment waits for that the person's roles may sign. The use cases decide
    again when a button is pressed: hiding one is a courtesy, not the rule."""
    config = ws.config
    dep = shown["deployment"]
    env = config.environments.get(dep["environment"])
    approve: list[str] = []
    if env is not None and env.approvals and may(config, actor, "approve"):
        done = {a["role"] for a in shown["approvals"]}
        held = actor.roles if not actor.single_person else set(env.approvals.roles)
        approve = [r for r in env.approvals.roles if r in held and r not in done]
        if dep["status"] not in ACTIVE and dep["status"] != "blocked":
            approve = []
    confirm: list[str] = []
    if may(config, actor, "confirm"):
        by = {c.id: set(c.by) for c in config.confirmations}
        confirm = [
            item for item in waiting
            if not by.get(item) or actor.single_person or actor.roles & by[item]
        ]
    return Buttons(approve, confirm)


@dataclass
class Day:
    """One environment on one day of the calendar (UTC)."""

    date: str
    weekday: str
    """The day as the tile heads it (``Mon 30 Nov``)."""
    state: str
    """``open`` (allowed from the day's start), ``opens`` (later that day, at ``at``),
    ``closed`` (not at all that day)."""
    at: str | None
    reasons: list[str]


def calendar(ws: Workspace, actor: Actor, *, days: int = 14) -> dict[str, list[Day]]:
    """The next ``days`` days per environment: when deploying is allowed by the time
    rules (windows, holidays, month and quarter ends, campaigns, freezes), and why not."""
    from datetime import UTC, datetime, timedelta

    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    found: dict[str, list[Day]] = {}
    for env in ws.config.environments:
        row: list[Day] = []
        for n in range(days):
            day = start + timedelta(days=n)
            decision = explain.explain(ws, actor, env, at=day).decision
            # "Mon 2026-11-30 00:00 UTC is outside …": the day is the tile's heading already
            timed = [_AT_PREFIX.sub("", r.reason) for r in decision.denied if r.time_based]
            nxt = decision.next_allowed_at
            label = (day.date().isoformat(), day.strftime("%a %d %b"))
            if not timed:
                row.append(Day(*label, "open", None, []))
            elif nxt is not None and nxt < day + timedelta(days=1):
                row.append(Day(*label, "opens", nxt.strftime("%H:%M"), timed))
            else:
                row.append(Day(*label, "closed", None, timed))
        found[env] = row
    return found
