"""What a deployment leaves for the metrics: its project, the release facts of a version's
first deployment, when it went live, the failure it was, and the downtime it caused.

None of it may fail or stop a deployment: git that cannot say what a release contains
records the release without its changes, and says why (``release.incomplete``).
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from releasegate.errors import DriverError
from releasegate.service.workspace import Workspace

if TYPE_CHECKING:
    from releasegate.engine.plan import Plan
    from releasegate.store.api import StepRunRecord
    from releasegate.store.facts_records import ChangeFact

CHANGELOG = "CHANGELOG.md"
FAILED = ("failed", "rolled_back", "rollback_failed")


def record_start(ws: Workspace, deployment_id: int, the_plan: Plan) -> str | None:
    """Label the deployment with the config's project and record its release's facts
    (once per version and environment). Returns why facts are missing, if they are."""
    project = ws.config.project
    store = ws.store
    store.set_project(deployment_id, project)
    release = the_plan.release
    changes: list[ChangeFact] = []
    previous, missing = _previous_commit(ws, release.environment, release.previous_version)
    if release.commit is None:
        missing = f"{ws.root} is not a git repository: no commit or changes recorded"
    elif missing is None:
        from releasegate.metrics.changes import release_changes

        try:
            changes = release_changes(_git_root(ws.root), release.commit, previous)
        except DriverError as exc:
            missing = f"changes not recorded: {exc}"
    store.record_release(
        project=project, environment=release.environment, version=release.version,
        kind=release.kind, commit=release.commit, previous_commit=previous, changes=changes,
        changelog=_changelog(ws.root, release.version),
    )
    if missing is not None:
        store.append_event("release.incomplete", {"version": release.version, "reason": missing},
                           deployment_id=deployment_id)
    return missing


def _previous_commit(ws: Workspace, env: str, previous: str | None) -> tuple[str | None, str | None]:
    """The previous release's commit: as recorded when it was deployed, else its tag
    (``vX`` or ``X``); ``(None, why)`` when it cannot be found. No previous: the whole history."""
    if previous is None:
        return None, None
    from sqlalchemy import select

    from releasegate.service.metrics import sql_engine
    from releasegate.store.facts_records import release_facts as facts

    with sql_engine(ws.store).connect() as conn:
        recorded = conn.execute(
            select(facts.c.commit).where(
                facts.c.project == ws.config.project, facts.c.environment == env,
                facts.c.version == previous, facts.c.commit.is_not(None),
            ).limit(1)
        ).scalar()
    if recorded:
        return str(recorded), None
    for tag in (f"v{previous}", previous):
        found = _git(ws.root, "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{commit}}")
        if found:
            return found, None
    return None, (f"the previous release {previous} has no recorded commit and no tag "
                  f"v{previous} or {previous} in the repository: its changes cannot be told apart")


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _git_root(root: Path) -> Path:
    top = _git(root, "rev-parse", "--show-toplevel")
    return Path(top) if top else root


def _changelog(root: Path, version: str) -> str | None:
    from releasegate.metrics.changelog import changelog_entry

    for folder in (root, _git_root(root)):
        path = folder / CHANGELOG
        try:
            return changelog_entry(path.read_text(encoding="utf-8"), version)
        except (OSError, UnicodeDecodeError):
            continue
    return None


def record_end(ws: Workspace, user: str, deployment_id: int, status: str, detail: str) -> None:
    """After the run: when the release went live, a failed deploy or verification linked
    as a failure, and the maintenance page's time as an outage."""
    store = ws.store
    dep = store.get_deployment(deployment_id)
    if dep is None:
        return
    if status == "succeeded":
        store.mark_live(project=ws.config.project, environment=dep.environment,
                        version=dep.version, at=dep.finished_at or datetime.now(UTC))
    elif status in FAILED and not detail.startswith("gate "):  # a stop at the gates changed nothing
        store.link_failure(deployment_id, cause="verification", user=user, note=detail[:500])
    _record_outage(ws, deployment_id, dep.finished_at)


def _record_outage(ws: Workspace, deployment_id: int, finished: datetime | None) -> None:
    """From a ``maintenance`` step turning the page on to the one (or the undo) turning
    it off; a page never turned off counts until the deployment ended."""
    runs: list[StepRunRecord] = [
        r for r in ws.store.list_step_runs(deployment_id)
        if r.status == "succeeded" and r.evidence.get("maintenance") in ("on", "off") and r.finished_at
    ]
    started: datetime | None = None
    for run in runs:
        assert run.finished_at is not None
        if run.evidence.get("maintenance") == "on" and started is None:
            started = run.finished_at
        elif run.evidence.get("maintenance") == "off" and started is not None:
            ws.store.record_outage(deployment_id, started_at=started, ended_at=run.finished_at,
                                   source="maintenance", note=run.step_id)
            started = None
    if started is not None:
        ws.store.record_outage(deployment_id, started_at=started, ended_at=finished or datetime.now(UTC),
                               source="maintenance", note="maintenance mode was not turned off")
