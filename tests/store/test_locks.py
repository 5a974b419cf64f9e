"""Environment locks: leases that exactly one deployment holds, across processes."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from releasegate.errors import LockedError, StoreError
from releasegate.store.api import Store

if TYPE_CHECKING:
    from tests.store.conftest import FakeClock, Race


def _deploy(store: Store, version: str, user: str = "ana") -> int:
    return store.create_deployment(
        environment="production", version=version, kind="normal", user=user, plan={}
    ).id


def test_acquire_get_heartbeat_release(clocked_store: Store, clock: FakeClock) -> None:
    store = clocked_store
    d = _deploy(store, "v1.2.0")
    assert store.get_lock("production") is None
    lock = store.acquire_lock("production", deployment_id=d, holder="ci-bot", ttl_s=60)
    assert (lock.environment, lock.deployment_id, lock.holder) == ("production", d, "ci-bot")
    assert lock.expires_at == clock.now + timedelta(seconds=60)
    assert store.get_lock("production") == lock
    clock.advance(30)
    store.heartbeat("production", deployment_id=d, ttl_s=60)
    renewed = store.get_lock("production")
    assert renewed is not None
    assert renewed.heartbeat_at == clock.now
    assert renewed.expires_at == clock.now + timedelta(seconds=60)
    assert renewed.acquired_at == lock.acquired_at
    store.release_lock("production", deployment_id=d)
    assert store.get_lock("production") is None
    types = [e.type for e in store.list_events(deployment_id=d)]
    assert types == ["deployment.created", "lock.acquired", "lock.released"]


def test_a_held_lock_refuses_others_and_names_the_holder(clocked_store: Store) -> None:
    store = clocked_store
    first = _deploy(store, "v1.2.0")
    second = _deploy(store, "v1.3.0")
    store.acquire_lock("production", deployment_id=first, holder="ci-bot", ttl_s=60)
    with pytest.raises(LockedError) as caught:
        store.acquire_lock("production", deployment_id=second, holder="ana", ttl_s=60)
    assert str(caught.value) == (
        f"production is locked by deployment {first} (v1.2.0, started by ci-bot at 10:02 UTC)"
    )
    # the same deployment cannot acquire twice either (resume uses take_over_lock)
    with pytest.raises(LockedError):
        store.acquire_lock("production", deployment_id=first, holder="ci-bot", ttl_s=60)
    # another environment is independent
    store.acquire_lock("staging", deployment_id=second, holder="ana", ttl_s=60)
    # releasing a lock one does not hold changes nothing
    store.release_lock("production", deployment_id=second)
    held = store.get_lock("production")
    assert held is not None
    assert held.deployment_id == first


def test_an_expired_lease_is_taken_over(clocked_store: Store, clock: FakeClock) -> None:
    store = clocked_store
    crashed = _deploy(store, "v1.2.0")
    fresh = _deploy(store, "v1.3.0")
    store.acquire_lock("production", deployment_id=crashed, holder="ci-bot", ttl_s=60)
    clock.advance(59)
    with pytest.raises(LockedError):
        store.acquire_lock("production", deployment_id=fresh, holder="ana", ttl_s=60)
    clock.advance(2)
    assert store.get_lock("production").expired(clock.now)  # type: ignore[union-attr]
    lock = store.acquire_lock("production", deployment_id=fresh, holder="ana", ttl_s=60)
    assert (lock.deployment_id, lock.holder, lock.acquired_at) == (fresh, "ana", clock.now)
    (event,) = [e for e in store.list_events(deployment_id=fresh) if e.type.startswith("lock.")]
    assert event.type == "lock.taken_over"
    assert event.data["previous_deployment_id"] == crashed
    assert event.data["previous_holder"] == "ci-bot"
    # the old holder finds out at its next heartbeat, and learns who has it now
    with pytest.raises(
        LockedError,
        match=(
            f"deployment {crashed} lost the lock on production: it is now held by "
            f"deployment {fresh} \\(v1.3.0, started by ana at 10:03 UTC\\)"
        ),
    ):
        store.heartbeat("production", deployment_id=crashed, ttl_s=60)
    store.release_lock("production", deployment_id=crashed)  # no-op: not the holder
    assert store.get_lock("production").deployment_id == fresh  # type: ignore[union-attr]


def test_take_over_lock_resumes_own_lease_but_not_anothers(
    clocked_store: Store, clock: FakeClock
) -> None:
    store = clocked_store
    mine = _deploy(store, "v1.2.0")
    other = _deploy(store, "v1.3.0")
    store.acquire_lock("production", deployment_id=mine, holder="host-a:41", ttl_s=60)
    resumed = store.take_over_lock("production", deployment_id=mine, holder="host-b:7", ttl_s=60)
    assert resumed.holder == "host-b:7"
    with pytest.raises(LockedError, match="production is locked by deployment"):
        store.take_over_lock("production", deployment_id=other, holder="x", ttl_s=60)
    clock.advance(61)
    taken = store.take_over_lock("production", deployment_id=other, holder="x", ttl_s=60)
    assert taken.deployment_id == other
    assert store.take_over_lock("staging", deployment_id=mine, holder="y", ttl_s=5).holder == "y"


def test_lock_errors(store: Store) -> None:
    d = _deploy(store, "v1")
    with pytest.raises(LockedError, match=f"deployment {d} lost the lock on production: nobody"):
        store.heartbeat("production", deployment_id=d, ttl_s=60)
    with pytest.raises(StoreError, match="deployment 12 does not exist"):
        store.acquire_lock("production", deployment_id=12, holder="x", ttl_s=60)


def test_a_short_lease_expires_in_real_time(store: Store) -> None:
    first = _deploy(store, "v1")
    second = _deploy(store, "v2")
    store.acquire_lock("production", deployment_id=first, holder="a", ttl_s=0.2)
    time.sleep(0.3)
    assert store.acquire_lock("production", deployment_id=second, holder="b", ttl_s=60)


def test_processes_racing_for_one_environment_exactly_one_wins(
    store: Store, store_url: str, race: Race
) -> None:
    ids = [_deploy(store, f"v{n}") for n in range(2)]
    results = race(store_url, [["lock", "production", str(d)] for d in ids])
    winners = [d for d, result in zip(ids, results, strict=True) if result == "won"]
    assert len(winners) == 1, results
    (winner,) = winners
    version = f"v{ids.index(winner)}"
    for result in results:
        if result != "won":
            assert result.startswith(
                f"locked: production is locked by deployment {winner} ({version}, "
                f"started by worker-{winner} at "
            ), results
    lock = store.get_lock("production")
    assert lock is not None
    assert lock.deployment_id == winner
    assert store.verify_chain().ok
