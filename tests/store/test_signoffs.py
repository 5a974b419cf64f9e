"""Sign-offs the database keeps unique: approve once, one person per role, sign an item once."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pytest

from releasegate.errors import ConflictError
from releasegate.identity.actor import Via
from releasegate.store.api import Store
from releasegate.store.records import VIAS

if TYPE_CHECKING:
    from tests.store.conftest import Race


def _approve(store: Store, role: str, user: str, *, distinct: bool = False, version: str = "3.0") -> int:
    return store.add_approval(
        environment="production", version=version, role=role, user=user, distinct_people=distinct
    ).id


def test_a_role_approves_a_version_once(store: Store) -> None:
    first = _approve(store, "qa", "ana")
    with pytest.raises(ConflictError) as caught:
        _approve(store, "qa", "ben")
    assert str(caught.value) == f"qa has already approved 3.0 for production (approval {first} by ana)"
    with pytest.raises(ConflictError, match=r"qa has already approved 3\.0 for production"):
        _approve(store, "qa", "ana")  # the same person again: still once
    _approve(store, "qa", "ben", version="3.1")  # another version is another sign-off
    assert [a.user for a in store.list_approvals("production", "3.0")] == ["ana"]
    assert [e.type for e in store.list_events()] == ["approval.recorded"] * 2  # nothing half-done
    # a revoked approval frees the role
    store.revoke_approval(first, user="ana")
    again = store.add_approval(environment="production", version="3.0", role="qa", user="ben")
    assert [a.id for a in store.list_approvals("production", "3.0")] == [again.id]
    assert store.verify_chain().ok


def test_distinct_people_refuses_one_person_in_two_roles(store: Store) -> None:
    _approve(store, "qa", "dora", distinct=True)
    with pytest.raises(ConflictError) as caught:
        _approve(store, "tech-lead", "dora", distinct=True)
    assert str(caught.value) == (
        "dora already approved 3.0 for production as qa: distinct_people needs another "
        "person for tech-lead"
    )
    _approve(store, "tech-lead", "tom", distinct=True)
    # without distinct_people the same person may hold two roles (policy allows it)
    _approve(store, "product-owner", "dora")
    roles = {(a.role, a.user) for a in store.list_approvals("production", "3.0")}
    assert roles == {("qa", "dora"), ("tech-lead", "tom"), ("product-owner", "dora")}


def test_an_item_is_signed_once_per_deployment(store: Store) -> None:
    d = store.create_deployment(
        environment="production", version="3.0", kind="normal", user="ana", plan={}
    ).id
    store.add_confirmation(deployment_id=d, item="prod.team-assembled", user="ben")
    with pytest.raises(ConflictError) as caught:
        store.add_confirmation(deployment_id=d, item="prod.team-assembled", user="lee")
    assert str(caught.value) == f"prod.team-assembled is already signed for deployment {d} by ben"
    other = store.create_deployment(
        environment="production", version="3.0", kind="normal", user="ana", plan={}
    ).id
    store.add_confirmation(deployment_id=other, item="prod.team-assembled", user="lee")
    assert [c.user for c in store.list_confirmations(d)] == ["ben"]


def test_who_signed_and_how_is_kept(store: Store) -> None:
    payload = "releasegate approval\nproject: shop\nenvironment: production\nversion: 3.0\n"
    approval = store.add_approval(
        environment="production", version="3.0", role="qa", user="ana",
        os_user="ana", via="ssh", signature="-----BEGIN SSH SIGNATURE-----\nxyz\n", payload=payload,
    )  # fmt: skip
    assert store.list_approvals("production", "3.0") == [approval]
    assert (approval.os_user, approval.via, approval.payload) == ("ana", "ssh", payload)
    d = store.create_deployment(
        environment="production", version="3.0", kind="normal", user="ben", plan={},
        os_user="root", via="trust",
    )  # fmt: skip
    assert (d.os_user, d.via) == ("root", "trust")
    confirmation = store.add_confirmation(
        deployment_id=d.id, item="prod.backup", user="ben", os_user="ben", via="os"
    )
    assert store.list_confirmations(d.id) == [confirmation]
    event = store.list_events()[0]
    assert (event.data["os_user"], event.data["via"], event.data["signed"]) == ("ana", "ssh", True)
    with pytest.raises(ValueError, match="'magic' is not a way of establishing identity"):
        store.add_approval(environment="p", version="1", role="qa", user="x", via="magic")


def test_the_store_knows_every_way_the_identity_module_names() -> None:
    from typing import get_args

    assert get_args(Via) == VIAS


def test_twenty_processes_leave_one_approval_per_role_and_one_role_per_person(
    store: Store, store_url: str, race: Race
) -> None:
    roles = ["qa", "product-owner", "tech-lead", "security", "ops"]
    people = ["ana", "ben", "dora", "lee"]
    argvs = [
        ["approve", "production", "3.0", role, person, "1"]
        for role, person in itertools.product(roles, people)
    ]
    results = race(store_url, argvs)
    approvals = store.list_approvals("production", "3.0")
    # 4 people, 5 roles: once each person holds a role, every later attempt conflicts
    assert len(approvals) == 4, results
    assert len({a.role for a in approvals}) == 4  # never two approvals of one role
    assert len({a.user for a in approvals}) == 4  # never one person in two roles
    assert results.count("approved") == 4
    assert all(r == "approved" or r.startswith("conflict: ") for r in results), results
    assert store.verify_chain().ok


def test_ten_approvals_by_one_person_record_exactly_one(
    store: Store, store_url: str, race: Race
) -> None:
    # the report: 10 × `--as dora approve production 3.0` (5 qa, 5 tech-lead)
    argvs = [["approve", "production", "3.0", role, "dora", "1"] for role in ["qa", "tech-lead"] * 5]
    results = race(store_url, argvs)
    assert results.count("approved") == 1, results
    (approval,) = store.list_approvals("production", "3.0")
    assert approval.user == "dora"
    other = "tech-lead" if approval.role == "qa" else "qa"
    assert sorted(set(results) - {"approved"}) == sorted(
        {
            f"conflict: {approval.role} has already approved 3.0 for production "
            f"(approval {approval.id} by dora)",
            f"conflict: dora already approved 3.0 for production as {approval.role}: "
            f"distinct_people needs another person for {other}",
        }
    )


def test_concurrent_signatures_of_one_item_record_one(
    store: Store, store_url: str, race: Race
) -> None:
    d = store.create_deployment(
        environment="production", version="3.0", kind="normal", user="ana", plan={}
    ).id
    people = [f"p{n}" for n in range(10)]
    results = race(store_url, [["confirm", str(d), "prod.team-assembled", p] for p in people])
    assert results.count("signed") == 1, results
    (signed,) = store.list_confirmations(d)
    expected = f"conflict: prod.team-assembled is already signed for deployment {d} by {signed.user}"
    assert sorted(set(results)) == sorted({"signed", expected})
