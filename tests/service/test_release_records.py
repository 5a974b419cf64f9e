"""What deployments record for the metrics, from real git repositories: release facts and
their changes, going live, failures linked (rollback, hotfix, incident), maintenance
downtime, and the post-mortem a rollback is owed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from releasegate.errors import UsageError
from releasegate.service import calendar, deployments
from releasegate.service.metrics import sql_engine
from releasegate.store.facts_records import failure_links, outages, release_changes, release_facts

from .conftest import actor, environment


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> str | None:
    """The store: the default SQLite file beside the config, or a fresh PostgreSQL database."""
    return None if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def commit(root: Path, name: str, message: str) -> None:
    (root / name).write_text(message)
    git(root, "add", name)
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", message)


def rows(ws, table):  # type: ignore[no-untyped-def]
    with sql_engine(ws.store).connect() as conn:
        return list(conn.execute(select(table)))


def test_first_deployment_records_the_changes_since_the_previous_release(make_ws, db) -> None:  # type: ignore[no-untyped-def]
    ws = make_ws(environment("production"))
    ws.db_url = db
    git(ws.root, "init", "-q")
    (ws.root / ".gitignore").write_text(".releasegate/\nlive.txt\n")
    commit(ws.root, "a.txt", "first feature")
    git(ws.root, "tag", "v1.0")
    (ws.root / "CHANGELOG.md").write_text("# Changes\n\n## [1.1] - 2026-11-01\n### Added\n- Wishlists.\n")
    commit(ws.root, "b.txt", "wishlists")
    commit(ws.root, "c.txt", "fix the cart")
    dev = actor(ws, "dev")
    deployments.adopt(ws, dev, "production", "1.0")
    done = deployments.deploy(ws, dev, "production", "1.1")
    assert done.status == "succeeded"
    [release] = [r for r in rows(ws, release_facts) if r.version == "1.1"]
    assert (release.project, release.commit) == ("t", git(ws.root, "rev-parse", "HEAD"))
    assert release.previous_commit == git(ws.root, "rev-parse", "v1.0^{commit}")
    assert release.live_at is not None
    assert "Wishlists" in (release.changelog or "")
    subjects = [c.subject for c in rows(ws, release_changes) if c.release_id == release.id]
    assert subjects == ["wishlists", "fix the cart"]
    assert ws.store.get_deployment(done.deployment_id).project == "t"
    # a redeploy records nothing new
    deployments.deploy(ws, dev, "production", "1.1")
    assert len([r for r in rows(ws, release_facts) if r.version == "1.1"]) == 1


def test_a_missing_tag_never_fails_the_deploy_and_says_why(make_ws) -> None:  # type: ignore[no-untyped-def]
    ws = make_ws(environment("production"))
    git(ws.root, "init", "-q")
    commit(ws.root, "a.txt", "one")
    dev = actor(ws, "dev")
    deployments.adopt(ws, dev, "production", "0.9")  # no tag, no recorded commit
    done = deployments.deploy(ws, dev, "production", "1.0")
    assert done.status == "succeeded"
    [event] = ws.store.list_events(types=("release.incomplete",))
    assert "previous release 0.9 has no recorded commit and no tag v0.9 or 0.9" in str(event.data["reason"])
    [release] = [r for r in rows(ws, release_facts) if r.version == "1.0"]
    assert release.commit is not None
    assert [c for c in rows(ws, release_changes) if c.release_id == release.id] == []


def test_outside_git_the_release_is_recorded_without_its_changes(make_ws) -> None:  # type: ignore[no-untyped-def]
    ws = make_ws(environment("production"))
    assert deployments.deploy(ws, actor(ws, "dev"), "production", "1.0").status == "succeeded"
    [event] = ws.store.list_events(types=("release.incomplete",))
    assert "is not a git repository" in str(event.data["reason"])


FAILING = """\
    target:
      uses: command
      with:
        deploy: [sh, -c, "echo {version} > live.txt"]
        rollback: [sh, -c, "echo {version} > live.txt"]
        current: [cat, live.txt]
    rollback: {automatic: true}
    deploy:
      - {id: maintenance-on, uses: maintenance, with: {enable: [touch, m], disable: [rm, -f, m]}}
      - {id: release, uses: target}
      - {id: maintenance-off, uses: maintenance, with: {action: disable, enable: [touch, m], disable: [rm, -f, m]}}
      - {id: smoke, uses: command, with: {run: [sh, -c, "test ! -f broken"]}, on_failure: rollback}
"""


def test_rollback_links_a_failure_records_downtime_and_owes_a_postmortem(make_ws, db) -> None:  # type: ignore[no-untyped-def]
    ws = make_ws(f"  production:\n{FAILING}")
    ws.db_url = db
    dev = actor(ws, "dev")
    good = deployments.deploy(ws, dev, "production", "1.0")
    assert good.status == "succeeded"
    (ws.root / "broken").write_text("")
    bad = deployments.deploy(ws, dev, "production", "1.1")
    assert bad.status == "rolled_back"
    links = rows(ws, failure_links)
    assert [(link.deployment_id, link.cause) for link in links] == [(bad.deployment_id, "verification")]
    spans = rows(ws, outages)
    assert {o.deployment_id for o in spans} == {good.deployment_id, bad.deployment_id}
    assert all(o.source == "maintenance" and o.ended_at >= o.started_at for o in spans)
    owed = calendar.list_obligations(ws, dev)
    assert [(o.deployment_id, o.kind) for o in owed] == [(bad.deployment_id, "postmortem")]


def test_a_hotfix_and_an_incident_link_the_deployment_they_are_about(make_ws, db) -> None:  # type: ignore[no-untyped-def]
    ws = make_ws(environment("production"))
    ws.db_url = db
    dev = actor(ws, "dev")
    broken = deployments.deploy(ws, dev, "production", "1.0").deployment_id
    with pytest.raises(UsageError, match="--fixes: there is no deployment 77"):
        deployments.deploy(ws, dev, "production", "1.0.1", fixes=77)
    with pytest.raises(UsageError, match="only a hotfix does"):
        deployments.deploy(ws, dev, "production", "1.0.1", kind="major", fixes=broken)
    fix = deployments.deploy(ws, dev, "production", "1.0.1", fixes=broken)
    assert fix.status == "succeeded"
    assert ws.store.get_deployment(fix.deployment_id).kind == "hotfix"
    opened = calendar.open_incident(ws, dev, "checkout errors", severity="high", impact="20%",
                                    env="production", deployment=broken)
    assert "caused by deployment" in opened.text
    with pytest.raises(UsageError, match="--deployment: there is no deployment 99"):
        calendar.open_incident(ws, dev, "x", severity="low", impact="1%", env="production", deployment=99)
    links = sorted((link.cause, link.fixed_by, link.incident_id) for link in rows(ws, failure_links))
    assert links == [("hotfix", fix.deployment_id, None), ("incident", None, opened.id)]
