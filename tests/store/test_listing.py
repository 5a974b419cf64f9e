"""A page of deployments as the web API lists it: one SELECT of the listing's columns."""

from __future__ import annotations

from datetime import datetime

from releasegate.store.api import Store


def _deploy(store: Store, env: str, version: str) -> int:
    return store.create_deployment(
        environment=env, version=version, kind="normal", user="ana", plan={"big": "x" * 1000}
    ).id


def test_a_page_is_newest_first_filtered_and_offset_in_sql(store: Store) -> None:
    ids = [_deploy(store, ("staging", "production")[i % 2], f"1.0.{i}") for i in range(7)]
    store.set_deployment_status(ids[1], "running")
    store.set_deployment_status(ids[1], "succeeded", detail="done")

    page = store.list_deployment_page(offset=2, limit=3)
    assert [d.id for d in page] == ids[::-1][2:5]
    prod = store.list_deployment_page(environment="production", limit=10)
    assert [d.id for d in prod] == [ids[5], ids[3], ids[1]]
    done = store.list_deployment_page(environment="production", status="succeeded", limit=10)
    assert [(d.id, d.detail) for d in done] == [(ids[1], "done")]
    assert store.list_deployment_page(status="failed", limit=10) == []
    assert store.list_deployment_page(offset=100, limit=10) == []


def test_the_listing_times_are_the_records_times_in_iso_8601_utc(store: Store) -> None:
    d = _deploy(store, "staging", "2.0.0")
    store.set_deployment_status(d, "running")
    store.set_deployment_status(d, "succeeded")
    full = store.get_deployment(d)
    assert full is not None
    (row,) = store.list_deployment_page(limit=1)
    for name in ("created_at", "started_at", "finished_at"):
        text = getattr(row, name)
        assert text.endswith("+00:00"), text
        assert datetime.fromisoformat(text) == getattr(full, name)
    assert (row.version, row.kind, row.user, row.emergency) == ("2.0.0", "normal", "ana", False)
