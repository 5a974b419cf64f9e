"""The deployment use cases' rules: rollback is policy too, break-glass overrides, adopt,
policy decided under the lease and again before the deploy phase."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from releasegate.errors import ConfigError, LockedError, PermissionDenied, PolicyDenied, UsageError
from releasegate.service import deployments, records
from releasegate.service.show import show

from .conftest import FROZEN, FROZEN_TOP, actor, environment


def live(ws_root: Path) -> str:
    return (ws_root / "live.txt").read_text().strip()


def test_adopt_records_what_was_live_once_and_needs_devops(make_ws) -> None:  # type: ignore[no-untyped-def]
    ws = make_ws(environment("staging"))
    with pytest.raises(PermissionDenied, match=r"ana may not adopt: it needs one of the roles devops, admin \(the default\); ana holds qa"):
        deployments.adopt(ws, actor(ws, "ana"), "staging", "1.0")
    done = deployments.adopt(ws, actor(ws, "dev"), "staging", "1.0", reason="ran before")
    assert (done.status, done.version) == ("succeeded", "1.0")
    assert ws.store.live_version("staging") == "1.0"
    assert not (ws.root / "live.txt").exists()  # nothing was run
    with pytest.raises(UsageError, match=r"staging already has a recorded live version \(1.0\)"):
        deployments.adopt(ws, actor(ws, "dev"), "staging", "1.1")
    assert ws.store.get_lock("staging") is None


def test_rollback_returns_only_to_a_version_that_succeeded_there(make_ws) -> None:  # type: ignore[no-untyped-def]
    ws = make_ws(environment("production", extra=FROZEN), top=FROZEN_TOP)
    dev = actor(ws, "dev")
    deployments.adopt(ws, dev, "production", "1.0")
    # the freeze refuses a deployment; the admin goes past it, recorded
    with pytest.raises(PolicyDenied, match=r"blocked by policy \(freeze:always\)"):
        deployments.deploy(ws, dev, "production", "1.1")
    root = actor(ws, "root")
    done = deployments.deploy(
        ws, root, "production", "1.1", overrides=["freeze:always"], reason="tested: hotfix window"
    )
    assert done.status == "succeeded", done.detail
    assert live(ws.root) == "1.1"
    # a version never deployed here is a deployment, not a rollback
    with pytest.raises(PolicyDenied, match=r"6\.6\.6-evil is not a version production can be rolled back to"):
        deployments.rollback(ws, actor(ws, "ana"), "production", to="6.6.6-evil")
    assert live(ws.root) == "1.1"
    # rolling back is never blocked by a window or a freeze
    back = deployments.rollback(ws, actor(ws, "ana"), "production", to="1.0")
    assert back.status == "succeeded", back.detail
    assert live(ws.root) == "1.0"
    # and never to a version it was rolled back from
    with pytest.raises(PolicyDenied, match="not a version production can be rolled back to"):
        deployments.rollback(ws, actor(ws, "ana"), "production", to="1.1")


def test_override_needs_the_role_a_reason_and_real_rule_names(make_ws) -> None:  # type: ignore[no-untyped-def]
    ws = make_ws(environment("production", extra=FROZEN), top=FROZEN_TOP)
    with pytest.raises(PermissionDenied, match=r"dev may not override: it needs the role admin \(overrides.roles\); dev holds devops"):
        deployments.deploy(ws, actor(ws, "dev"), "production", "1.0", overrides=["freeze:always"], reason="x")
    with pytest.raises(UsageError, match="--override needs --reason TEXT"):
        deployments.deploy(ws, actor(ws, "root"), "production", "1.0", overrides=["freeze:always"])
    with pytest.raises(UsageError, match=r"--override 'windw': not a rule of production \(its rules: "):
        deployments.deploy(ws, actor(ws, "root"), "production", "1.0", overrides=["windw"], reason="x")
    done = deployments.deploy(
        ws, actor(ws, "root"), "production", "1.0", overrides=["freeze:always"], reason="break glass"
    )
    assert done.status == "succeeded"
    report = show(ws, actor(ws, "ana"), done.deployment_id or 0)
    overrides = report["overrides"]
    assert isinstance(overrides, list)
    assert overrides[0]["rules"] == ["freeze:always"]
    assert overrides[0]["reason"] == "break glass"
    assert overrides[0]["actor"]["user"] == "root"
    status = records.status(ws, actor(ws, "ana"), "production")
    assert "went past freeze:always: root: break glass" in status.environments[0].overrides[0]


def test_a_freeze_that_starts_during_the_gates_stops_the_deploy_phase(make_ws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # the gate itself freezes production, as a person would while the gates run
    gate = (
        "      - id: meanwhile\n        uses: command\n        with:\n          run: ["
        f"{sys.executable}, -m, releasegate, --as, dev, freeze, add, --env, production, "
        "--from, '2000-01-01T00:00Z', --to, '2100-01-01T00:00Z', --reason, 'incident call']\n"
    )
    ws = make_ws(environment("production", gates=gate))
    done = deployments.deploy(ws, actor(ws, "dev"), "production", "1.0")
    assert done.status == "blocked"
    assert "freeze:ad-hoc" in done.detail
    assert "decided again before the deploy phase" in done.detail
    assert not (tmp_path / "live.txt").exists()  # the deploy phase never started
    dep = ws.store.get_deployment(done.deployment_id or 0)
    assert dep is not None
    assert dep.status == "blocked"
    assert ws.store.get_lock("production") is None


def test_a_refused_deploy_leaves_nothing_pending_and_names_the_holder(make_ws) -> None:  # type: ignore[no-untyped-def]
    ws = make_ws(environment("staging"))
    holder = ws.store.create_deployment(environment="staging", version="0.9", kind="normal", user="x", plan={})
    ws.store.set_deployment_status(holder.id, "running")
    ws.store.acquire_lock("staging", deployment_id=holder.id, holder="x@elsewhere:1", ttl_s=600)
    with pytest.raises(LockedError, match=r"staging is locked by deployment 1 \(0\.9"):
        deployments.deploy(ws, actor(ws, "dev"), "staging", "1.0")
    statuses = [d.status for d in ws.store.list_deployments(environment="staging")]
    assert "pending" not in statuses


def test_taking_over_an_expired_lease_ends_the_old_deployment(make_ws) -> None:  # type: ignore[no-untyped-def]
    ws = make_ws(environment("staging"))
    old = ws.store.create_deployment(environment="staging", version="0.9", kind="normal", user="x", plan={})
    ws.store.set_deployment_status(old.id, "running")
    ws.store.acquire_lock("staging", deployment_id=old.id, holder="x@elsewhere:1", ttl_s=0)
    done = deployments.deploy(ws, actor(ws, "dev"), "staging", "1.0")
    assert done.status == "succeeded"
    ended = ws.store.get_deployment(old.id)
    assert ended is not None
    assert ended.status == "cancelled"
    assert ended.detail == f"its lease expired and deployment {done.deployment_id} took the environment over"


def test_versions_are_checked_at_the_entry(make_ws) -> None:  # type: ignore[no-untyped-def]
    ws = make_ws(environment("staging"))
    for bad, why in (("1.0$(touch X)", "'$' is not allowed"), ("", "a version cannot be empty"), ("../../etc", "'.' cannot start a version"), ("1/../../etc", "'/' is not allowed"), (".hidden", "cannot start a version")):
        with pytest.raises(ConfigError, match=__import__("re").escape(why)):
            deployments.deploy(ws, actor(ws, "dev"), "staging", bad)
    assert ws.store.list_deployments() == []


def test_old_verification_samples_are_pruned_but_the_baseline_is_kept(make_ws) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    ws = make_ws(environment("staging") + environment("production"), top="samples: {keep: 30d}\n")
    dev = actor(ws, "dev")
    first = deployments.deploy(ws, dev, "staging", "1.0").deployment_id or 0
    baseline = deployments.deploy(ws, dev, "staging", "1.1").deployment_id or 0
    old, now = datetime.now(UTC) - timedelta(days=40), datetime.now(UTC)
    for dep, at in ((first, old), (first, now), (baseline, old)):
        ws.store.add_sample(deployment_id=dep, stage="immediate", at=at, values={"error_rate": 0.0})
    # any deployment's end prunes: here one to another environment
    deployments.deploy(ws, dev, "production", "1.1")
    assert [s.at > old for s in ws.store.list_samples(first)] == [True]  # the recent one stays
    assert len(ws.store.list_samples(baseline)) == 1  # staging's baseline keeps even its old one
    pruned = [e.data for e in ws.store.list_events() if e.type == "samples.pruned"]
    assert pruned[-1]["deleted"] == 1
