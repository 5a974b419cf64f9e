"""``releasegate backups list|prune``: presentation of the retention use cases."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from releasegate.cli.context import Globals
from releasegate.cli.exit_codes import Exit


def print_backups(g: Globals) -> int:
    """Each backup in place, oldest first: environment, age, good or not, and its fate
    under ``backups.keep_days``; then those archived before."""
    from releasegate.metrics.retention import plan_prune
    from releasegate.service import metrics as service

    ws = g.workspace
    items, gone = service.list_backups(ws, g.actor)
    plan = plan_prune(items, ws.config.backups.keep_days, datetime.now(UTC))
    expired = {b.id for b in plan.expired}
    if g.json:
        print(json.dumps({
            "backups": [{"id": b.id, "environment": b.environment, "location": b.location,
                         "created_at": b.created_at.isoformat(), "good": b.good,
                         "expired": b.id in expired, "kept_because": plan.reasons.get(b.id)}
                        for b in items],
            "archived": {str(k): v for k, v in gone.items()},
        }, indent=2))
        return Exit.OK
    if not items:
        print("no backups in place")
    for b in items:
        fate = "expired: the next prune moves it" if b.id in expired else plan.reasons.get(b.id, "kept")
        state = "good" if b.good else "MISSING or does not match its checksum"
        print(f"{b.id}  {b.environment}  {b.created_at.astimezone(UTC):%Y-%m-%d %H:%M UTC}  "
              f"{state}  {b.location} — {fate}")
    for backup_id, where in gone.items():
        print(f"{backup_id}  archived to {where}" if where else f"{backup_id}  deleted by a prune")
    return Exit.OK


def prune(g: Globals, *, dry_run: bool) -> int:
    from releasegate.service import metrics as service

    done = service.prune_backups(g.workspace, g.actor, dry_run=dry_run)
    if g.json:
        print(json.dumps(done.to_json(), indent=2))
        return Exit.OK
    where = done.destination or "nowhere (no backups.archive: deleted)"
    verb = "would move" if dry_run else "moved"
    if not done.plan.expired:
        print(f"nothing older than {g.workspace.config.backups.keep_days} days to prune")
    for b in done.plan.expired:
        target = done.moved.get(b.id) if not dry_run else where
        print(f"{verb} backup {b.id} ({b.environment}, {b.created_at:%Y-%m-%d}) to {target or 'deletion'}")
    for backup_id, reason in done.plan.reasons.items():
        print(f"kept backup {backup_id}: {reason}")
    return Exit.OK
