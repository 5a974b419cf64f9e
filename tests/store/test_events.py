"""The hash-chained event log: appends, listing, and tamper detection."""

from __future__ import annotations

import itertools
import subprocess
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from releasegate.audit.anchors import FileAnchor, GitAnchor
from releasegate.errors import StoreError
from releasegate.store.api import Store, open_store
from releasegate.store.chain import event_hash
from releasegate.store.records import ChainHead
from releasegate.store.tables import GENESIS_HASH

if TYPE_CHECKING:
    from tests.store.conftest import Race, RawSql


def _fill(store: Store, n: int) -> None:
    for i in range(n):
        store.append_event("note.added", {"n": i, "text": f"note {i}", "ratio": i / 3})


def test_append_event_links_each_event_to_the_previous(store: Store) -> None:
    d = store.create_deployment(
        environment="staging", version="1", kind="normal", user="ana", plan={}
    )
    e1 = store.append_event(
        "custom.thing", {"a": [1, 2.5, None, True], "b": {"c": "ü"}}, deployment_id=d.id
    )
    e2 = store.append_event("custom.other", {})
    assert (e1.id, e2.id) == (2, 3)  # event 1 is deployment.created
    assert e2.prev_hash == e1.hash
    assert e1.hash == event_hash(
        e1.prev_hash, id=e1.id, deployment_id=d.id, at=e1.at, type="custom.thing", data=e1.data
    )
    assert store.list_events(after_id=1) == [e1, e2]
    assert store.list_events(deployment_id=d.id, after_id=1) == [e1]
    _fill(store, 5)
    assert [e.id for e in store.list_events(limit=2)] == [1, 2]
    assert [e.id for e in store.list_events(after_id=2, limit=2)] == [3, 4]
    assert store.list_events(after_id=8) == []


def test_append_event_refuses_bad_input(store: Store) -> None:
    with pytest.raises(StoreError, match="deployment 5 does not exist"):
        store.append_event("x", {}, deployment_id=5)
    with pytest.raises(StoreError, match="event 'x' has data that is not JSON"):
        store.append_event("x", {"bad": float("nan")})
    assert store.verify_chain().checked == 0


def test_an_untouched_chain_verifies(store: Store) -> None:
    _fill(store, 20)
    report = store.verify_chain()
    assert (report.ok, report.checked, report.problems) == (True, 20, [])


def test_an_edited_event_is_named(store: Store, store_url: str, raw_sql: RawSql) -> None:
    _fill(store, 10)
    raw_sql(store_url, "UPDATE events SET type = 'note.removed' WHERE id = 4")
    report = store.verify_chain()
    assert not report.ok
    assert report.problems == ["event 4 was edited (hash mismatch)"]


def test_an_edited_and_rehashed_event_is_named(
    store: Store, store_url: str, raw_sql: RawSql
) -> None:
    _fill(store, 10)
    target = store.list_events(after_id=5, limit=1)[0]
    forged = {"n": 999}
    new_hash = event_hash(
        target.prev_hash, id=6, deployment_id=None, at=target.at, type=target.type, data=forged
    )
    raw_sql(
        store_url, "UPDATE events SET data = :d, hash = :h WHERE id = 6", d='{"n": 999}', h=new_hash
    )
    assert store.verify_chain().problems == [
        "event 6 was edited (its hash no longer matches the one event 7 records)"
    ]


def test_a_deleted_middle_event_is_named(store: Store, store_url: str, raw_sql: RawSql) -> None:
    _fill(store, 10)
    raw_sql(store_url, "DELETE FROM events WHERE id = 5")
    raw_sql(store_url, "DELETE FROM events WHERE id IN (7, 8)")
    report = store.verify_chain()
    assert report.problems == [
        "event 5 is missing (chain broken between 4 and 6)",
        "events 7-8 are missing (chain broken between 6 and 9)",
    ]
    assert report.checked == 7


def test_deleted_first_events_are_named(store: Store, store_url: str, raw_sql: RawSql) -> None:
    _fill(store, 5)
    raw_sql(store_url, "DELETE FROM events WHERE id <= 2")
    assert store.verify_chain().problems == [
        "events 1-2 are missing (deleted from the start of the log)"
    ]


def test_a_deleted_tail_is_detected(store: Store, store_url: str, raw_sql: RawSql) -> None:
    _fill(store, 10)
    raw_sql(store_url, "DELETE FROM events WHERE id > 7")
    assert store.verify_chain().problems == [
        "the last 3 events were deleted (the chain head records event 10, the log ends at event 7)"
    ]
    raw_sql(store_url, "DELETE FROM events")
    report = store.verify_chain()
    assert report.checked == 0
    assert report.problems == [
        "the last 10 events were deleted (the chain head records event 10, the log ends at event 0)"
    ]


def test_a_rewritten_last_event_is_caught_by_the_head(
    store: Store, store_url: str, raw_sql: RawSql
) -> None:
    _fill(store, 3)
    last = store.list_events()[-1]
    forged_hash = event_hash(
        last.prev_hash, id=3, deployment_id=None, at=last.at, type="note.removed", data=last.data
    )
    raw_sql(
        store_url, "UPDATE events SET type = 'note.removed', hash = :h WHERE id = 3", h=forged_hash
    )
    assert store.verify_chain().problems == [
        "event 3 was edited (its hash does not match the chain head)"
    ]


def test_appends_from_many_threads_never_fork_the_chain(store: Store) -> None:
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            for n in range(15):
                store.append_event("test.appended", {"worker": worker, "n": n})
        except Exception as exc:  # noqa: BLE001  # reported below: a thread cannot raise into the test
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    _assert_one_straight_chain(store, 90)


def test_appends_from_several_processes_never_fork_the_chain(
    store: Store, store_url: str, race: Race
) -> None:
    results = race(store_url, [["append", "20", f"p{w}"] for w in range(2)])
    assert results == ["done"] * 2
    _assert_one_straight_chain(store, 40)


def _assert_one_straight_chain(store: Store, count: int) -> None:
    events = store.list_events()
    assert [e.id for e in events] == list(range(1, count + 1))
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    report = store.verify_chain()
    assert (report.ok, report.checked) == (True, count)


def _git_repo(path: Path) -> Path:
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True, timeout=30)
    return path


def test_a_truncated_log_with_a_rewritten_head_is_caught_by_its_anchor(
    store: Store, store_url: str, raw_sql: RawSql, tmp_path: Path
) -> None:
    _fill(store, 10)
    anchors = GitAnchor(_git_repo(tmp_path / "project"))
    head = store.chain_head()
    assert (head.event_id, head.hash) == (10, store.list_events()[-1].hash)
    anchored = anchors.write(head)
    assert store.verify_chain(anchors.read()).ok
    # delete the last three events and make the head row agree: the chain alone is fooled
    (seventh,) = raw_sql(store_url, "SELECT hash FROM events WHERE id = 7")
    raw_sql(store_url, "DELETE FROM events WHERE id > 7")
    raw_sql(store_url, "UPDATE event_chain_head SET last_id = 7, last_hash = :h", h=seventh[0])
    assert store.verify_chain().ok
    assert store.verify_chain(anchors.read()).problems == [
        f"the log was truncated: anchor of {anchored.anchored_at:%Y-%m-%d %H:%M:%S} UTC records "
        f"event 10 (hash {head.hash[:12]}…), the log ends at event 7"
    ]


def test_a_log_rewritten_past_its_anchor_differs_from_it(
    store: Store, store_url: str, raw_sql: RawSql, tmp_path: Path
) -> None:
    _fill(store, 5)
    anchors = FileAnchor(tmp_path / "anchors.jsonl")
    anchored = anchors.write(store.chain_head())
    (third,) = raw_sql(store_url, "SELECT hash FROM events WHERE id = 3")
    raw_sql(store_url, "DELETE FROM events WHERE id > 3")
    raw_sql(store_url, "UPDATE event_chain_head SET last_id = 3, last_hash = :h", h=third[0])
    with open_store(store_url) as forger:  # a fresh writer appends a different history
        _fill(forger, 4)
    assert store.verify_chain(anchors.read()).problems == [
        f"event 5 differs from its anchor (anchor of {anchored.anchored_at:%Y-%m-%d %H:%M:%S} UTC)"
    ]


def test_count_events_and_the_chain_head(store: Store) -> None:
    assert store.count_events() == 0
    assert store.chain_head() == ChainHead(event_id=0, hash=GENESIS_HASH, at=None)
    d = store.create_deployment(environment="s", version="1", kind="normal", user="a", plan={})
    store.set_deployment_status(d.id, "running")
    last = store.append_event("note", {})
    assert (store.count_events(), store.count_events(d.id), store.count_events(999)) == (3, 2, 0)
    assert store.chain_head() == ChainHead(event_id=last.id, hash=last.hash, at=last.at)
