"""Approvals, confirmations, incidents, freezes, campaigns, obligations, backups, samples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from releasegate.errors import StoreError
from releasegate.store.api import Store

if TYPE_CHECKING:
    from tests.store.conftest import FakeClock

T0 = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


def _deploy(store: Store) -> int:
    return store.create_deployment(
        environment="production", version="1.4.0", kind="normal", user="ana", plan={}
    ).id


def _types(store: Store, *, after: int = 0) -> list[str]:
    return [e.type for e in store.list_events(after_id=after)]


def test_approvals_are_listed_per_version_and_can_be_revoked(
    clocked_store: Store, clock: FakeClock
) -> None:
    store = clocked_store
    qa = store.add_approval(environment="production", version="1.4.0", role="qa", user="ravi")
    po = store.add_approval(
        environment="production", version="1.4.0", role="product-owner", user="mina", note="go"
    )
    store.add_approval(environment="production", version="1.5.0", role="qa", user="ravi")
    store.add_approval(environment="staging", version="1.4.0", role="qa", user="ravi")
    assert store.list_approvals("production", "1.4.0") == [qa, po]
    assert po.note == "go"
    assert po.created_at == clock.now
    clock.advance(10)
    revoked = store.revoke_approval(qa.id, user="ravi")
    assert (revoked.revoked_at, revoked.revoked_by) == (clock.now, "ravi")
    assert store.list_approvals("production", "1.4.0") == [po]
    assert store.list_approvals("production", "1.4.0", include_revoked=True) == [revoked, po]
    with pytest.raises(StoreError, match=f"approval {qa.id} was already revoked by ravi"):
        store.revoke_approval(qa.id, user="ravi")
    with pytest.raises(StoreError, match="approval 99 does not exist"):
        store.revoke_approval(99, user="ravi")
    assert _types(store) == ["approval.recorded"] * 4 + ["approval.revoked"]
    assert store.list_events()[1].data["role"] == "product-owner"


def test_confirmations_belong_to_a_deployment(store: Store) -> None:
    d = _deploy(store)
    signed = store.add_confirmation(
        deployment_id=d, item="prod.team-assembled", user="lee", note="all four on the call"
    )
    store.add_confirmation(deployment_id=d, item="prod.rollback-plan", user="lee")
    assert [c.item for c in store.list_confirmations(d)] == [
        "prod.team-assembled",
        "prod.rollback-plan",
    ]
    assert store.list_confirmations(d)[0] == signed
    event = store.list_events(deployment_id=d)[1]
    assert (event.type, event.data["item"], event.data["user"]) == (
        "confirmation.recorded",
        "prod.team-assembled",
        "lee",
    )
    with pytest.raises(StoreError, match="deployment 404 does not exist"):
        store.add_confirmation(deployment_id=404, item="x", user="lee")


def test_incidents_open_and_close(clocked_store: Store, clock: FakeClock) -> None:
    store = clocked_store
    deadline = T0 + timedelta(minutes=15)
    inc = store.open_incident(
        title="checkout errors",
        severity="high",
        impact=0.25,
        environment="production",
        user="oncall",
        action="rollback",
        deadline=deadline,
    )
    other = store.open_incident(
        title="slow search",
        severity="low",
        impact=0.01,
        environment=None,
        user="oncall",
        action="monitor",
        deadline=None,
    )
    assert (inc.deadline, inc.impact, inc.closed_at) == (deadline, 0.25, None)
    assert store.list_incidents() == [inc, other]
    clock.advance(600)
    closed = store.close_incident(inc.id, user="oncall", note="rolled back")
    assert (closed.closed_at, closed.closed_by, closed.close_note) == (
        clock.now,
        "oncall",
        "rolled back",
    )
    assert store.list_incidents() == [other]
    assert store.list_incidents(include_closed=True) == [closed, other]
    with pytest.raises(StoreError, match=f"incident {inc.id} was already closed by oncall"):
        store.close_incident(inc.id, user="x")
    assert _types(store) == ["incident.opened", "incident.opened", "incident.closed"]
    assert store.list_events()[0].data["deadline"] == deadline.isoformat()


def test_freezes_are_added_listed_and_removed(store: Store) -> None:
    late = store.add_freeze(
        environment=None,
        start=T0 + timedelta(days=2),
        end=T0 + timedelta(days=3),
        reason="Diwali",
        hard=True,
        user="cto",
    )
    soon = store.add_freeze(
        environment="production",
        start=T0,
        end=T0 + timedelta(hours=4),
        reason="board demo",
        hard=False,
        user="pm",
    )
    assert store.list_freezes() == [soon, late]
    assert (late.environment, late.hard, late.start) == (None, True, T0 + timedelta(days=2))
    store.remove_freeze(soon.id, user="pm")
    assert store.list_freezes() == [late]
    with pytest.raises(StoreError, match=f"freeze {soon.id} was already removed by pm"):
        store.remove_freeze(soon.id, user="pm")
    with pytest.raises(ValueError, match="a freeze must end after it starts"):
        store.add_freeze(environment=None, start=T0, end=T0, reason="x", hard=True, user="pm")
    assert _types(store) == ["freeze.added", "freeze.added", "freeze.removed"]


def test_campaigns_are_listed_by_time(store: Store) -> None:
    sale = store.add_campaign(
        name="spring sale",
        at=T0 + timedelta(days=7),
        buffer_s=7200,
        environment="production",
        user="mkt",
    )
    launch = store.add_campaign(name="launch", at=T0, buffer_s=3600, environment=None, user="mkt")
    assert store.list_campaigns() == [launch, sale]
    assert sale.buffer_s == 7200
    with pytest.raises(ValueError, match="campaign buffer must not be negative"):
        store.add_campaign(name="x", at=T0, buffer_s=-1, environment=None, user="mkt")
    assert _types(store) == ["campaign.added", "campaign.added"]


def test_obligations_open_and_close(store: Store) -> None:
    d = _deploy(store)
    pm = store.add_obligation(
        deployment_id=d, kind="postmortem", text="write it up", due_at=T0 + timedelta(days=2)
    )
    mon = store.add_obligation(
        deployment_id=d, kind="monitor", text="watch p95", due_at=T0 + timedelta(hours=2)
    )
    assert store.list_obligations() == [mon, pm]  # soonest due first
    closed = store.close_obligation(mon.id, user="oncall", note="flat")
    assert closed.closed_by == "oncall"
    assert closed.close_note == "flat"
    assert store.list_obligations() == [pm]
    assert store.list_obligations(open_only=False) == [closed, pm]
    with pytest.raises(ValueError, match="'party' is not an obligation kind"):
        store.add_obligation(deployment_id=d, kind="party", text="", due_at=T0)
    with pytest.raises(StoreError, match=f"obligation {mon.id} was already closed by oncall"):
        store.close_obligation(mon.id, user="x")
    assert [e.type for e in store.list_events(deployment_id=d)][1:] == [
        "obligation.opened",
        "obligation.opened",
        "obligation.closed",
    ]


def test_backups_are_recorded_and_the_latest_found(store: Store) -> None:
    d = _deploy(store)
    assert store.latest_backup() is None
    first = store.record_backup(
        deployment_id=d,
        location="/backups/a.dump",
        checksum="sha256:aa",
        size=10_000_000_000,
        duration_s=3.5,
        kind="pg_dump",
        source="app",
    )
    second = store.record_backup(
        deployment_id=None,
        location="s3://b/b.db",
        checksum="sha256:bb",
        size=42,
        duration_s=0.1,
        kind="sqlite",
        source="cache",
    )
    assert store.latest_backup() == second
    assert store.latest_backup(source="app") == first
    assert store.latest_backup(source="nope") is None
    assert first.size == 10_000_000_000
    assert store.list_backups() == [first, second]
    assert store.list_backups(deployment_id=d) == [first]
    assert store.list_events(deployment_id=d)[-1].data["checksum"] == "sha256:aa"


def test_samples_are_listed_by_stage_without_events(store: Store) -> None:
    d = _deploy(store)
    before = len(store.list_events())
    store.add_sample(
        deployment_id=d,
        stage="short-term",
        at=T0 + timedelta(minutes=6),
        values={"p95": 0.21, "error_rate": 0.0},
    )
    store.add_sample(deployment_id=d, stage="immediate", at=T0, values={"error_rate": 0.004})
    samples = store.list_samples(d)
    assert [(s.stage, s.at, s.values) for s in samples] == [
        ("immediate", T0, {"error_rate": 0.004}),
        ("short-term", T0 + timedelta(minutes=6), {"p95": 0.21, "error_rate": 0.0}),
    ]
    assert [s.stage for s in store.list_samples(d, stage="immediate")] == ["immediate"]
    assert len(store.list_events()) == before
    with pytest.raises(ValueError, match="naive datetime"):
        store.add_sample(deployment_id=d, stage="x", at=datetime(2026, 1, 1), values={})


def test_times_come_back_in_utc_whatever_zone_went_in(store: Store) -> None:
    ist = datetime(2026, 3, 10, 21, 0, tzinfo=ZoneInfo("Asia/Kolkata"))
    freeze = store.add_freeze(
        environment=None, start=ist, end=ist + timedelta(hours=1), reason="x", hard=True, user="u"
    )
    (listed,) = store.list_freezes()
    assert listed.start == datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
    assert listed.start.tzinfo == UTC
    assert listed == freeze
