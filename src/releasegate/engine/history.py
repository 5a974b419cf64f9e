"""Facts about past deployments the engine plans with: the previous stable version, and
how long rollbacks took."""

from __future__ import annotations

from statistics import median

from releasegate.store.api import Store


def previous_stable(store: Store, env: str) -> str | None:
    """The newest successfully deployed version before the live one, other than it."""
    live = store.live_version(env)
    for dep in store.list_deployments(environment=env, status="succeeded", limit=200):
        if dep.version != live:
            return dep.version
    return None


def estimate_rollback_s(store: Store, env: str) -> tuple[float | None, str]:
    """Median duration of this environment's past rollbacks, and what it is based on."""
    durations: list[float] = []
    for dep in store.list_deployments(environment=env, limit=200):
        if dep.status != "rolled_back" and dep.kind != "rollback":
            continue
        runs = [
            r
            for r in store.list_step_runs(dep.id)
            if (r.phase.endswith(":undo") or r.phase == "rollback") and r.finished_at
        ]
        if runs:
            start = min(r.started_at for r in runs)
            end = max(r.finished_at for r in runs if r.finished_at is not None)
            durations.append((end - start).total_seconds())
    if not durations:
        return None, "no rollback of this environment recorded yet"
    return median(durations), f"median of {len(durations)} recorded rollback(s)"
