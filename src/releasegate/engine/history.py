"""Facts about past deployments the engine plans with: which deployment made the live
version live, the previous stable version, and how long rollbacks took."""

from __future__ import annotations

from statistics import median

from releasegate.store.api import Store
from releasegate.store.records import DeploymentRecord

_DEPTH = 200


def live_deployment(store: Store, env: str) -> DeploymentRecord | None:
    """The deployment whose steps put the live version in place.

    After a manual rollback the live version came back through a ``rollback`` deployment;
    the deployment that first deployed that version is the one a further rollback undoes.
    """
    live = store.last_successful(env)
    if live is None or live.kind != "rollback":
        return live
    for dep in store.list_deployments(environment=env, status="succeeded", limit=_DEPTH):
        if dep.kind != "rollback" and dep.version == live.version and dep.id < live.id:
            return dep
    return None


def previous_stable(store: Store, env: str) -> str | None:
    """The newest successfully deployed version before the live one, other than it, and
    not one that was rolled back from."""
    deps = store.list_deployments(environment=env, limit=_DEPTH)
    live = store.live_version(env)
    rolled_back_from = {d.rollback_of for d in deps if d.kind == "rollback" and d.status == "succeeded"}
    current = live_deployment(store, env)
    for dep in deps:
        if current is not None and dep.id >= current.id:
            continue
        if dep.status != "succeeded" or dep.kind == "rollback":
            continue
        if dep.version != live and dep.id not in rolled_back_from:
            return dep.version
    return None


def estimate_rollback_s(store: Store, env: str) -> tuple[float | None, str]:
    """Median duration of this environment's past successful rollbacks, and its basis."""
    durations: list[float] = []
    for dep in store.list_deployments(environment=env, limit=_DEPTH):
        done = dep.status == "rolled_back" or (dep.kind == "rollback" and dep.status == "succeeded")
        if not done:
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
        return None, "no successful rollback of this environment recorded yet"
    return median(durations), f"median of {len(durations)} recorded rollback(s)"


def rollback_targets(store: Store, env: str) -> list[str]:
    """Versions ``rollback --to`` may return ``env`` to, newest first: each succeeded there
    (not as a rollback), is not live now, and that deployment was not rolled back from."""
    deps = store.list_deployments(environment=env, limit=_DEPTH)
    live = store.live_version(env)
    rolled_back_from = {
        d.rollback_of for d in deps if d.kind == "rollback" and d.status == "succeeded"
    }
    found: list[str] = []
    for dep in deps:
        if dep.status != "succeeded" or dep.kind == "rollback" or dep.id in rolled_back_from:
            continue
        if dep.version != live and dep.version not in found:
            found.append(dep.version)
    return found
