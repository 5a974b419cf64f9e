"""Leases for the engine: a deployment and its lease in one transaction, fencing tokens, and
the lease released with the final status."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest

from releasegate.errors import LockedError, StoreError
from releasegate.store.api import Store

if TYPE_CHECKING:
    from tests.store.conftest import FakeClock


def _start(store: Store, version: str, holder: str = "host-a:1", ttl_s: float = 30) -> tuple[int, int]:
    d, lock = store.start_deployment(
        environment="production", version=version, kind="normal", user="ana", plan={},
        holder=holder, ttl_s=ttl_s, os_user="ana", via="os",
    )  # fmt: skip
    assert (lock.deployment_id, lock.holder, lock.environment) == (d.id, holder, "production")
    return d.id, lock.token


def test_start_deployment_records_the_deployment_and_its_lease(clocked_store: Store) -> None:
    store = clocked_store
    d, token = _start(store, "1.0")
    deployment = store.get_deployment(d)
    assert deployment is not None
    assert (deployment.status, deployment.os_user, deployment.via) == ("pending", "ana", "os")
    events = store.list_events(deployment_id=d)
    assert [e.type for e in events] == ["deployment.created", "lock.acquired"]
    assert token == events[1].id  # the token is the id of the event that granted the lease
    assert events[1].data["token"] == token
    held = store.get_lock("production")
    assert held is not None
    assert (held.deployment_id, held.token) == (d, token)
    assert store.verify_chain().ok


def test_a_held_environment_refuses_and_records_nothing(clocked_store: Store) -> None:
    store = clocked_store
    first, _ = _start(store, "1.0")
    before = store.count_events()
    with pytest.raises(LockedError) as caught:
        _start(store, "1.1", holder="host-b:2")
    assert str(caught.value) == (
        f"production is locked by deployment {first} (1.0, started by host-a:1 at 10:02 UTC)"
    )
    # no pending deployment left behind, no event, no catalogue entry
    assert [d.version for d in store.list_deployments()] == ["1.0"]
    assert store.count_events() == before
    assert [r.version for r in store.list_releases("production")] == ["1.0"]


def test_an_expired_lease_is_taken_over_with_a_larger_token(
    clocked_store: Store, clock: FakeClock
) -> None:
    store = clocked_store
    first, first_token = _start(store, "1.0")
    clock.advance(31)
    second, second_token = _start(store, "1.1", holder="host-b:2")
    assert second_token > first_token
    taken = store.list_events(deployment_id=second)[-1]
    assert taken.type == "lock.taken_over"
    assert (taken.data["previous_deployment_id"], taken.data["previous_holder"]) == (
        first,
        "host-a:1",
    )
    assert taken.data["previous_token"] == first_token
    # the old holder is fenced off: its token no longer renews anything
    with pytest.raises(LockedError, match=f"deployment {first} lost the lock on production"):
        store.heartbeat("production", deployment_id=first, ttl_s=30, token=first_token)


def test_tokens_grow_with_every_grant(store: Store) -> None:
    first, token1 = _start(store, "1.0")
    store.set_deployment_status(first, "succeeded", release_lock=True)
    second, token2 = _start(store, "1.1")
    resumed = store.take_over_lock("production", deployment_id=second, holder="host-c:3", ttl_s=30)
    assert token1 < token2 < resumed.token
    assert store.get_lock("production").token == resumed.token  # type: ignore[union-attr]


def test_a_resumed_deployment_fences_its_previous_process(store: Store) -> None:
    d, old_token = _start(store, "1.0", holder="host-a:1")
    resumed = store.take_over_lock("production", deployment_id=d, holder="host-b:7", ttl_s=30)
    store.heartbeat("production", deployment_id=d, ttl_s=30, token=resumed.token)
    with pytest.raises(LockedError) as caught:
        store.heartbeat("production", deployment_id=d, ttl_s=30, token=old_token)
    assert str(caught.value) == (
        f"deployment {d} lost the lock on production: its lease (token {old_token}) was "
        f"taken over by host-b:7 (token {resumed.token})"
    )
    store.release_lock("production", deployment_id=d, token=old_token)  # not its lease: no-op
    assert store.get_lock("production") is not None
    store.release_lock("production", deployment_id=d, token=resumed.token)
    assert store.get_lock("production") is None


def test_the_final_status_releases_the_lease_in_the_same_transaction(store: Store) -> None:
    d, _ = _start(store, "1.0")
    store.set_deployment_status(d, "running")
    done = store.set_deployment_status(d, "succeeded", detail="ok", release_lock=True)
    assert done.status == "succeeded"
    assert store.get_lock("production") is None
    types = [e.type for e in store.list_events(deployment_id=d)]
    assert types[-2:] == ["deployment.succeeded", "lock.released"]
    assert store.verify_chain().ok


def test_release_lock_leaves_another_deployments_lease_alone(
    clocked_store: Store, clock: FakeClock
) -> None:
    store = clocked_store
    first, _ = _start(store, "1.0")
    clock.advance(31)
    second, _ = _start(store, "1.1", holder="host-b:2")  # took the expired lease over
    store.set_deployment_status(first, "failed", release_lock=True)
    held = store.get_lock("production")
    assert held is not None
    assert held.deployment_id == second


def test_nothing_is_half_done_when_the_status_write_fails(store: Store) -> None:
    d, _ = _start(store, "1.0")
    store.set_deployment_status(d, "cancelled")  # finished, lease still held (old callers)
    with pytest.raises(StoreError, match=f"deployment {d} has already finished"):
        store.set_deployment_status(d, "failed", release_lock=True)
    assert store.get_lock("production") is not None  # the failed transaction released nothing
    with pytest.raises(ValueError, match="release_lock needs a final status, not 'running'"):
        store.set_deployment_status(d, "running", release_lock=True)


def test_start_deployment_refuses_bad_input_before_writing(store: Store) -> None:
    with pytest.raises(ValueError, match="'sideways' is not a deployment kind"):
        store.start_deployment(
            environment="production", version="1", kind="sideways", user="a", plan={},
            holder="h", ttl_s=30,
        )  # fmt: skip
    with pytest.raises(StoreError, match="deployment 41 does not exist"):
        store.start_deployment(
            environment="production", version="1", kind="rollback", user="a", plan={},
            holder="h", ttl_s=30, rollback_of=41,
        )  # fmt: skip
    assert store.count_events() == 0
    assert store.get_lock("production") is None


def test_writes_fenced_by_an_old_token_record_nothing(store: Store) -> None:
    d, old = _start(store, "1.0", holder="host-a:1")
    run = store.start_step(d, step_id="release", phase="deploy", attempt=1, token=old)
    resumed = store.take_over_lock("production", deployment_id=d, holder="host-b:7", ttl_s=30)
    before = store.count_events()
    lost = f"deployment {d} no longer holds the lease granted with token {old}"
    with pytest.raises(LockedError, match=f"{lost}: step smoke start not recorded"):
        store.start_step(d, step_id="smoke", phase="deploy", attempt=1, token=old)
    with pytest.raises(LockedError, match=f"{lost}: step run {run.id} result not recorded"):
        store.finish_step(run.id, status="succeeded", summary="late", token=old)
    with pytest.raises(LockedError, match=f"{lost}: deployment {d} failed not recorded"):
        store.set_deployment_status(d, "failed", release_lock=True, token=old)
    assert store.count_events() == before
    assert [r.status for r in store.list_step_runs(d)] == ["running"]
    # the new holder's writes go through, and its final status releases its lease
    store.finish_step(run.id, status="cancelled", summary="resumed", token=resumed.token)
    store.set_deployment_status(d, "failed", release_lock=True, token=resumed.token)
    assert store.get_lock("production") is None
    assert store.verify_chain().ok


def test_a_token_fences_only_its_own_deployment(store: Store) -> None:
    first, token = _start(store, "1.0")
    other = store.create_deployment(
        environment="staging", version="1.0", kind="normal", user="a", plan={}
    ).id
    with pytest.raises(LockedError, match=f"deployment {other} no longer holds the lease"):
        store.start_step(other, step_id="x", phase="gates", attempt=1, token=token)
    store.start_step(first, step_id="x", phase="gates", attempt=1, token=token)


def test_fenced_writes_and_takeovers_never_deadlock(store: Store) -> None:
    d, _ = _start(store, "1.0")
    failures: list[BaseException] = []

    def writer() -> None:
        for n in range(40):
            lock = store.get_lock("production")
            token = lock.token if lock is not None else 0
            try:
                run = store.start_step(d, step_id=f"s{n}", phase="deploy", attempt=1, token=token)
                store.finish_step(run.id, status="succeeded", summary="ok", token=token)
                store.set_deployment_status(d, "running", token=token)
            except LockedError:
                continue  # taken over in between: refused, as it should be
            except Exception as exc:  # noqa: BLE001  # reported below: a thread cannot raise into the test
                failures.append(exc)

    def taker() -> None:
        for n in range(40):
            try:
                lock = store.take_over_lock("production", deployment_id=d, holder=f"t{n}", ttl_s=30)
                store.heartbeat("production", deployment_id=d, ttl_s=30, token=lock.token)
                if n % 5 == 0:
                    store.release_lock("production", deployment_id=d, token=lock.token)
            except LockedError:
                continue
            except Exception as exc:  # noqa: BLE001  # reported below
                failures.append(exc)

    threads = [threading.Thread(target=writer), threading.Thread(target=taker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert store.verify_chain().ok
