"""Every row policy decides on is bound to the chain: a row inserted, edited or deleted
behind releasegate's back is named by ``verify_chain``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from releasegate.store.api import Store
from releasegate.store.connection import parse_url
from releasegate.store.seals import SEALS_KEY, SPECS, seal
from releasegate.store.tables import Base

T0 = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


def _deployment(store: Store) -> int:
    return store.create_deployment(
        environment="production", version="1.0", kind="normal", user="ana", plan={"steps": [1]}
    ).id


def _step_run(store: Store) -> int:
    run = store.start_step(_deployment(store), step_id="tests", phase="gates", attempt=1)
    return store.finish_step(run.id, status="succeeded", summary="ok", evidence={"n": 1.5}).id


def _lock(store: Store) -> str:
    store.acquire_lock("production", deployment_id=_deployment(store), holder="h", ttl_s=60)
    return "production"


def _approval(store: Store) -> int:
    return store.add_approval(environment="production", version="1.0", role="qa", user="ana").id


def _confirmation(store: Store) -> int:
    return store.add_confirmation(deployment_id=_deployment(store), item="prod.x", user="ben").id


def _freeze(store: Store) -> int:
    return store.add_freeze(
        environment=None, start=T0, end=T0 + timedelta(days=1), reason="audit", hard=True, user="a"
    ).id


def _incident(store: Store) -> int:
    return store.open_incident(
        title="payments down", severity="high", impact=3, environment="production", user="a",
        action="rollback", deadline=T0,
    ).id  # fmt: skip


def _campaign(store: Store) -> int:
    return store.add_campaign(name="sale", at=T0, buffer_s=3600, environment=None, user="a").id


def _obligation(store: Store) -> int:
    return store.add_obligation(
        deployment_id=_deployment(store), kind="postmortem", text="write it", due_at=T0
    ).id


# table -> (make one row through the store, a column to edit, its forged value as SQL)
CASES: dict[str, tuple[Callable[[Store], int | str], str, str]] = {
    "deployments": (_deployment, "status", "'succeeded'"),
    "step_runs": (_step_run, "summary", "'all green'"),
    "locks": (_lock, "holder", "'mallory'"),
    "approvals": (_approval, "user", "'mallory'"),
    "confirmations": (_confirmation, "user", "'mallory'"),
    "freezes": (_freeze, "reason", "'none'"),
    "incidents": (_incident, "severity", "'low'"),
    "campaigns": (_campaign, "name", "'nothing'"),
    "obligations": (_obligation, "text", "'done'"),
}


def _tamper(url: str, *statements: str) -> list[tuple[object, ...]]:
    """Run SQL behind the store's back, foreign keys not enforced (as an attacker would)."""
    engine = create_engine(parse_url(url))
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL session_replication_role = replica"))
            rows: list[tuple[object, ...]] = []
            for statement in statements:
                result = conn.execute(text(statement))
                rows = [tuple(r) for r in result] if result.returns_rows else []
            return rows
    finally:
        engine.dispose()


def _key(table: str, key: int | str) -> str:
    column = SPECS[table].key
    return f"{column} = {key}" if isinstance(key, int) else f"{column} = '{key}'"


def test_every_policy_table_is_sealed() -> None:
    assert set(CASES) == set(SPECS)


@pytest.mark.parametrize("table", CASES)
def test_an_edited_row_is_named_with_its_columns(table: str, store: Store, store_url: str) -> None:
    make, column, forged = CASES[table]
    key = make(store)
    assert store.verify_chain().ok
    quoted = f'"{column}"'
    _tamper(store_url, f"UPDATE {table} SET {quoted} = {forged} WHERE {_key(table, key)}")
    assert store.verify_chain().problems == [f"{table} row {key} was edited: {column}"]


@pytest.mark.parametrize("table", CASES)
def test_a_row_inserted_outside_releasegate_is_named(
    table: str, store: Store, store_url: str
) -> None:
    make, _, _ = CASES[table]
    key = make(store)
    # a copy of a genuine row, with a new key (and one value changed where a key needs it)
    copied = [c.name for c in Base.metadata.tables[table].columns if c.name != "id"]
    values = [f'"{c}"' for c in copied]
    if table == "locks":
        values[copied.index("environment")] = "'staging'"
    elif table in ("approvals", "confirmations"):
        unique = "role" if table == "approvals" else "item"
        values[copied.index(unique)] = "'forged'"
    names = ", ".join(f'"{c}"' for c in copied)
    _tamper(
        store_url,
        f"INSERT INTO {table} ({names}) SELECT {', '.join(values)} FROM {table} "
        f"WHERE {_key(table, key)}",
    )
    new = "staging" if table == "locks" else _tamper(store_url, f"SELECT max(id) FROM {table}")[0][0]
    assert store.verify_chain().problems == [f"{table} row {new} was inserted outside releasegate"]


@pytest.mark.parametrize("table", CASES)
def test_a_deleted_row_is_named(table: str, store: Store, store_url: str) -> None:
    make, _, _ = CASES[table]
    key = make(store)
    _tamper(store_url, f"DELETE FROM {table} WHERE {_key(table, key)}")
    assert store.verify_chain().problems == [f"{table} row {key} was deleted"]


def test_rows_changed_by_releasegate_verify(clocked_store: Store) -> None:
    store = clocked_store
    d, lock = store.start_deployment(
        environment="production", version="1.0", kind="normal", user="ana",
        plan={"ü": "é", "n": [1, 2.5, None]}, holder="h", ttl_s=30,
    )  # fmt: skip
    store.heartbeat("production", deployment_id=d.id, ttl_s=30, token=lock.token)
    store.set_deployment_status(d.id, "running")
    approval = _approval(store)
    store.revoke_approval(approval, user="ana")
    freeze = _freeze(store)
    store.remove_freeze(freeze, user="ana")
    incident = _incident(store)
    store.close_incident(incident, user="ana")
    obligation = _obligation(store)
    store.close_obligation(obligation, user="ana")
    store.set_deployment_status(d.id, "succeeded", release_lock=True)
    report = store.verify_chain()
    assert (report.ok, report.problems) == (True, [])


def test_the_hot_path_seals_a_step_run_as_the_generic_seal_would(store: Store) -> None:
    d = _deployment(store)
    run = store.start_step(d, step_id="x", phase="deploy", attempt=2)
    done = store.finish_step(
        run.id, status="failed", summary="exit 1", output="boom\n", evidence={"b": 1, "a": [1.5]}
    )
    event = store.list_events(deployment_id=d)[-1]
    (found,) = event.data[SEALS_KEY]  # type: ignore[misc]
    assert found == seal("step_runs", vars(done))


def test_seals_are_the_stores_own(store: Store) -> None:
    with pytest.raises(ValueError, match="'_seals' in event data is the store's own"):
        store.append_event("x.y", {SEALS_KEY: []})


def test_an_event_whose_keys_sort_before_the_seals_still_counts(store: Store) -> None:
    # "ID" sorts before "_seals": the seal is then found by parsing the whole event
    store.append_event("x.y", {"ID": 1})
    d = _deployment(store)
    store.set_deployment_status(d, "running", detail="x")
    assert store.verify_chain().ok
