"""Deployments, step runs and the release catalogue."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import TYPE_CHECKING

import pytest

from releasegate.errors import StoreError
from releasegate.store.api import Store

if TYPE_CHECKING:
    from tests.store.conftest import FakeClock


def _deploy(store: Store, version: str = "1.0.0", env: str = "staging", **kw: object) -> int:
    return store.create_deployment(
        environment=env,
        version=version,
        kind=str(kw.pop("kind", "normal")),
        user="ana",
        plan={"steps": ["tests", "release"]},
        **kw,  # type: ignore[arg-type]
    ).id


def test_create_and_get_deployment_round_trips_every_field(store: Store) -> None:
    created = store.create_deployment(
        environment="production",
        version="1.2.0",
        kind="hotfix",
        user="ana",
        plan={"phases": {"deploy": ["backup", "release"]}, "n": 2},
        reason="payments down",
        emergency=True,
        commit="abc123",
    )
    got = store.get_deployment(created.id)
    assert got == created
    assert got.status == "pending"
    assert got.plan == {"phases": {"deploy": ["backup", "release"]}, "n": 2}
    assert got.created_at.tzinfo == UTC
    assert (got.started_at, got.finished_at, got.rollback_of) == (None, None, None)
    assert store.get_deployment(999) is None


def test_create_deployment_writes_its_event_and_catalogues_the_release(store: Store) -> None:
    d = store.create_deployment(
        environment="staging",
        version="2.0.0",
        kind="major",
        user="ana",
        plan={},
        commit="deadbeef",
    )
    (event,) = store.list_events(deployment_id=d.id)
    assert event.type == "deployment.created"
    assert event.data["version"] == "2.0.0"
    assert event.data["user"] == "ana"
    _deploy(store, "2.0.0")  # the same version again: still one catalogue entry
    releases = store.list_releases("staging")
    assert [(r.version, r.commit) for r in releases] == [("2.0.0", "deadbeef")]


def test_bad_input_is_refused_with_a_clear_message(store: Store) -> None:
    with pytest.raises(ValueError, match="'sideways' is not a deployment kind"):
        _deploy(store, kind="sideways")
    with pytest.raises(StoreError, match="deployment 41 does not exist"):
        _deploy(store, kind="rollback", rollback_of=41)
    assert store.list_events() == []  # nothing half-written
    d = _deploy(store)
    with pytest.raises(ValueError, match="'done' is not a deployment status"):
        store.set_deployment_status(d, "done")
    with pytest.raises(StoreError, match="deployment 77 does not exist"):
        store.set_deployment_status(77, "running")
    run = store.start_step(d, step_id="tests", phase="gates", attempt=1)
    with pytest.raises(ValueError, match="'exploded' is not a step status"):
        store.finish_step(run.id, status="exploded", summary="")
    with pytest.raises(StoreError, match="step run 99 does not exist"):
        store.finish_step(99, status="failed", summary="")
    with pytest.raises(StoreError, match="deployment 99 does not exist"):
        store.start_step(99, step_id="x", phase="gates", attempt=1)


def test_status_changes_set_times_and_append_events(clocked_store: Store, clock: FakeClock) -> None:
    store = clocked_store
    d = _deploy(store)
    clock.advance(60)
    running = store.set_deployment_status(d, "running")
    assert running.started_at == clock.now
    assert running.finished_at is None
    clock.advance(60)
    rolling = store.set_deployment_status(d, "rolling_back", detail="health check failed")
    assert rolling.finished_at is None
    clock.advance(30)
    done = store.set_deployment_status(d, "rolled_back")
    assert done.started_at == running.started_at
    assert done.finished_at == clock.now
    assert done.detail == "health check failed"
    types = [e.type for e in store.list_events(deployment_id=d)]
    assert types == [
        "deployment.created",
        "deployment.running",
        "deployment.rolling_back",
        "deployment.rolled_back",
    ]
    rolling_event = store.list_events(deployment_id=d)[2]
    seals = rolling_event.data.pop("_seals")
    assert rolling_event.data == {
        "status": "rolling_back",
        "previous": "running",
        "detail": "health check failed",
    }
    assert [(s["table"], s["id"]) for s in seals] == [("deployments", d)]  # type: ignore[index,union-attr]
    # a finished deployment is history: a late writer cannot rewrite how it ended
    with pytest.raises(StoreError, match=f"deployment {d} has already finished \\(rolled_back\\)"):
        store.set_deployment_status(d, "succeeded")


def test_list_deployments_filters_and_orders(store: Store) -> None:
    a = _deploy(store, "1.0", "staging")
    b = _deploy(store, "1.1", "production")
    c = _deploy(store, "1.2", "staging")
    store.set_deployment_status(c, "running")
    assert [d.id for d in store.list_deployments()] == [c, b, a]
    assert [d.id for d in store.list_deployments(newest_first=False)] == [a, b, c]
    assert [d.id for d in store.list_deployments(environment="staging")] == [c, a]
    assert [d.id for d in store.list_deployments(status="running")] == [c]
    assert [d.id for d in store.list_deployments(limit=1)] == [c]


def test_last_successful_and_live_version_follow_rollbacks(store: Store) -> None:
    assert store.last_successful("production") is None
    assert store.live_version("production") is None
    first = _deploy(store, "1.0", "production")
    store.set_deployment_status(first, "succeeded")
    second = _deploy(store, "1.1", "production")
    store.set_deployment_status(second, "succeeded")
    broken = _deploy(store, "1.2", "production")
    store.set_deployment_status(broken, "failed")
    assert store.live_version("production") == "1.1"
    back = _deploy(store, "1.0", "production", kind="rollback", rollback_of=second)
    store.set_deployment_status(back, "succeeded")
    assert store.get_deployment(back).rollback_of == second  # type: ignore[union-attr]
    assert store.live_version("production") == "1.0"
    last = store.last_successful("production", before_id=back)
    assert last is not None
    assert last.id == second
    assert store.live_version("staging") is None


def test_step_runs_record_attempts_in_order(clocked_store: Store, clock: FakeClock) -> None:
    store = clocked_store
    d = _deploy(store)
    run = store.start_step(d, step_id="tests", phase="gates", attempt=1)
    assert (run.status, run.finished_at, run.evidence) == ("running", None, {})
    clock.advance(5)
    failed = store.finish_step(run.id, status="failed", summary="exit 1", output="boom\n")
    retry = store.start_step(d, step_id="tests", phase="gates", attempt=2)
    clock.advance(5)
    ok = store.finish_step(
        retry.id, status="succeeded", summary="42 passed", evidence={"passed": 42}
    )
    assert failed.finished_at == run.started_at + timedelta(seconds=5)
    assert ok.evidence == {"passed": 42}
    runs = store.list_step_runs(d)
    assert [(r.attempt, r.status, r.summary, r.output) for r in runs] == [
        (1, "failed", "exit 1", "boom\n"),
        (2, "succeeded", "42 passed", ""),
    ]
    types = [e.type for e in store.list_events(deployment_id=d)]
    assert types[1:] == ["step.started", "step.failed", "step.started", "step.succeeded"]


def test_deployment_summaries_are_newest_first_without_plans(store: Store) -> None:
    first = store.create_deployment(environment="staging", version="1.0", kind="normal", user="a", plan={"big": "x" * 1000})
    store.set_deployment_status(first.id, "running")
    store.set_deployment_status(first.id, "succeeded")
    second = store.create_deployment(environment="staging", version="1.1", kind="major", user="a", plan={})
    store.create_deployment(environment="production", version="1.0", kind="normal", user="a", plan={})
    summaries = store.list_deployment_summaries(environment="staging")
    assert [(s.id, s.version, s.kind, s.status) for s in summaries] == [
        (second.id, "1.1", "major", "pending"),
        (first.id, "1.0", "normal", "succeeded"),
    ]
    assert summaries[1].finished_at is not None
    assert summaries[1].finished_at.tzinfo is not None
    assert not hasattr(summaries[0], "plan")
