"""The fast hashing paths agree exactly with the definitions they shortcut."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from releasegate.store.chain import canonical_json, envelope, iso_from_stored
from releasegate.store.connection import canonical_dumps
from releasegate.store.seals import SPECS, encode_canonical, row_hash, seal_canonical, utc_text

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
_moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(
    id=st.integers(1, 2**53),
    deployment_id=st.none() | st.integers(1, 2**31),
    at=_moments,
    type=st.text(),
    data=st.dictionaries(st.text(), _json, max_size=5),
)
def test_the_envelope_is_the_canonical_json(
    id: int, deployment_id: int | None, at: datetime, type: str, data: dict[str, object]
) -> None:
    expected = canonical_json(id=id, deployment_id=deployment_id, at=at, type=type, data=data)  # type: ignore[arg-type]
    stored_at = utc_text(at)  # the text SQLite keeps, and PostgreSQL is asked for
    assert iso_from_stored(stored_at) == at.isoformat()
    built = envelope(
        id=id, deployment_id=deployment_id, at_iso=iso_from_stored(stored_at),
        type_json=json.dumps(type, ensure_ascii=False), data_text=canonical_dumps(data),
    )  # fmt: skip
    assert built == expected


@given(summary=st.text(), output=st.text(), evidence=_json, attempt=st.integers(0, 2**31))
def test_a_seal_hashes_what_a_verifying_query_returns(
    summary: str, output: str, evidence: object, attempt: int
) -> None:
    row = (7, 3, "step", "deploy", attempt, "failed", summary, output, canonical_dumps(evidence),
           "2026-03-10 10:00:00.000001", None)  # fmt: skip
    assert len(row) == len(SPECS["step_runs"].columns)
    assert encode_canonical(row) == json.dumps(row, ensure_ascii=False, separators=(",", ":"))
    assert seal_canonical("step_runs", row)["hash"] == row_hash(row)
