"""``audit verify``: the chain, the rows it seals, and the anchors kept outside the database.

Fast because it stays below the ORM: the driver's raw rows are read in batches inside one
snapshot, and an event's hash is computed from the stored text of its data (written as
canonical JSON, so it is hashed as it is, not parsed and encoded again). Only an event
whose text is not canonical (written before releasegate 0002) is parsed, and only to check
it. Seals sit at the start of an event's data and are parsed alone. Each sealed row costs
one ``json.dumps`` of the tuple the driver returns and one sha256.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from releasegate.store.chain import (
    event_hash,
    gap_problem,
    head_problems,
    iso_from_stored,
    link_problem,
)
from releasegate.store.records import Anchor, AuditReport
from releasegate.store.schema import GENESIS_HASH
from releasegate.store.seals import (
    SEALS_KEY,
    SPECS,
    changed_columns,
    encode_canonical,
    recanonicalised,
    row_hash,
    select_sql,
)

_BATCH = 5000
_SEALS_AT_START = '{"' + SEALS_KEY + '":['
_SEALS_ANYWHERE = '"' + SEALS_KEY + '":'
_ONE_SEAL = _SEALS_AT_START + '{"cols":"'
_DECODE = json.JSONDecoder().raw_decode
_ABSENT = object()

Fetch = Callable[[str], Iterator[Sequence[Sequence[Any]]]]
"""Runs a query inside the verifying snapshot and yields its rows in batches."""


@dataclass
class _Walk:
    """What the walk over the events found."""

    checked: int = 0
    last_id: int = 0
    last_hash: str = GENESIS_HASH
    problems: list[str] = field(default_factory=list)
    seals: dict[str, dict[object, str | None]] = field(
        default_factory=lambda: {name: {} for name in SPECS}
    )
    anchored: dict[int, str] = field(default_factory=dict)


def verify(
    fetch: Fetch, dialect: str, quote: Callable[[str], str], anchors: Iterable[Anchor]
) -> AuditReport:
    """Walk the events, then every sealed table, then compare the anchors."""
    anchors = list(anchors)
    walk = _walk_events(fetch, dialect, {a.event_id for a in anchors})
    head = next(iter([row for batch in fetch(_HEAD_SQL) for row in batch]), None)
    problems = walk.problems
    if head is None:
        problems.append("the chain head is missing (deleted outside releasegate)")
    else:
        problems += head_problems(
            last_id=walk.last_id, last_hash=walk.last_hash, head_id=head[0], head_hash=head[1]
        )
    problems += _anchor_problems(anchors, walk)
    edited: dict[tuple[str, object], Sequence[Any]] = {}
    for name in SPECS:
        problems += _table_problems(
            fetch, name, select_sql(SPECS[name], dialect, quote), walk, edited
        )
    if edited:
        problems = _name_columns(problems, edited, fetch, dialect)
    return AuditReport(ok=not problems, checked=walk.checked, problems=problems)


_HEAD_SQL = "SELECT last_id, last_hash FROM event_chain_head WHERE id = 1"


def _events_sql(dialect: str) -> str:
    if dialect == "postgresql":
        return (
            "SELECT id, deployment_id, to_char(at AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD HH24:MI:SS.US'), type, data::text, prev_hash, hash FROM events ORDER BY id"
        )
    return "SELECT id, deployment_id, at, type, data, prev_hash, hash FROM events ORDER BY id"


def _walk_events(fetch: Fetch, dialect: str, anchor_ids: set[int]) -> _Walk:
    walk = _Walk()
    problems, seals, anchored = walk.problems, walk.seals, walk.anchored
    last_id, last_hash, checked = 0, GENESIS_HASH, 0
    types: dict[str, str] = {}
    sha256, decode, start = hashlib.sha256, _DECODE, len(_SEALS_AT_START) - 1
    for batch in fetch(_events_sql(dialect)):
        checked += len(batch)
        for id, did, at, type, data, prev, hash in batch:
            gap = id != last_id + 1
            if gap:
                problems.append(gap_problem(last_id, id))
            type_json = types.get(type)
            if type_json is None:
                type_json = types[type] = json.dumps(type, ensure_ascii=False)
            # chain.envelope() of chain.iso_from_stored(at), inlined: this loop runs a
            # million times (tests hold the two equal)
            iso = at[:19] if at.endswith(".000000") else at[:26]
            text = (
                f'{prev}{{"at":"{iso[:10]}T{iso[11:]}+00:00","data":{data},"deployment_id":'
                f'{"null" if did is None else did},"id":{id},"type":{type_json}}}'
            )
            if sha256(text.encode()).hexdigest() != hash and not _legacy_ok(
                id, did, at, type, data, prev, hash
            ):
                problems.append(f"event {id} was edited (hash mismatch)")
            else:
                if not gap and prev != last_hash:
                    problems.append(link_problem(last_id, id))
                found = None
                if data.startswith(_ONE_SEAL):
                    # the usual case, one seal of a row with an integer key, read by position:
                    # {"_seals":[{"cols":"…","hash":"<64 hex>","id":7,"table":"step_runs"}],…
                    at_hash = data.find('","hash":"', 20)
                    at_table = data.find(',"table":"', at_hash + 81)
                    end = data.find('"}', at_table + 10)
                    key = data[at_hash + 81 : at_table]
                    table = seals.get(data[at_table + 10 : end])
                    if data[end + 2 : end + 3] == "]" and key.isdigit() and table is not None:
                        table[int(key)] = data[at_hash + 10 : at_hash + 74]
                    else:
                        found = decode(data, start)[0]
                elif data.startswith(_SEALS_AT_START):
                    found = decode(data, start)[0]
                elif _SEALS_ANYWHERE in data:  # a key sorting before it: parse it all
                    found = json.loads(data).get(SEALS_KEY)
                if found:
                    _note_seals(seals, found)
            if id in anchor_ids:
                anchored[id] = hash
            last_id, last_hash = id, hash
    walk.checked, walk.last_id, walk.last_hash = checked, last_id, last_hash
    return walk


def _legacy_ok(
    id: int, did: int | None, at: str, type: str, data: str, prev: str, hash: str
) -> bool:
    # data written before canonical JSON: hash it as it was hashed when written
    try:
        moment = datetime.fromisoformat(iso_from_stored(at))
        value = json.loads(data)
        return event_hash(prev, id=id, deployment_id=did, at=moment, type=type, data=value) == hash
    except (TypeError, ValueError):
        return False


def _note_seals(seals: dict[str, dict[object, str | None]], found: object) -> None:
    # a verified event's seals were written by releasegate; anything else is ignored
    try:
        for item in found:  # type: ignore[attr-defined]
            seals[item["table"]][item["id"]] = item["hash"]
    except (KeyError, TypeError):
        pass


def _anchor_problems(anchors: Sequence[Anchor], walk: _Walk) -> list[str]:
    problems = []
    beyond = [a for a in anchors if a.event_id > walk.last_id]
    if beyond:
        newest = max(beyond, key=lambda a: a.event_id)
        problems.append(
            f"the log was truncated: anchor of {_when(newest.anchored_at)} records event "
            f"{newest.event_id} (hash {newest.hash[:12]}…), the log ends at event {walk.last_id}"
        )
    for anchor in sorted(anchors, key=lambda a: a.event_id):
        if (
            0 < anchor.event_id <= walk.last_id
            and walk.anchored.get(anchor.event_id) != anchor.hash
        ):
            gone = "" if anchor.event_id in walk.anchored else ", and it is missing"
            problems.append(
                f"event {anchor.event_id} differs from its anchor "
                f"(anchor of {_when(anchor.anchored_at)}{gone})"
            )
    return problems


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")


def _table_problems(
    fetch: Fetch,
    name: str,
    sql: str,
    walk: _Walk,
    edited: dict[tuple[str, object], Sequence[Any]],
) -> list[str]:
    spec = SPECS[name]
    key_at = spec.key_index
    sealed = walk.seals[name]
    problems = []
    sha256, encode = hashlib.sha256, encode_canonical  # seals.row_hash(), inlined
    for batch in fetch(sql):
        for row in batch:
            key = row[key_at]
            expected = sealed.pop(key, _ABSENT)
            if expected is _ABSENT or expected is None:
                problems.append(f"{name} row {key} was inserted outside releasegate")
            elif (
                sha256(encode(row).encode()).hexdigest() != expected
                and row_hash(recanonicalised(spec, row)) != expected
            ):
                problems.append(f"{name} row {key} was edited")
                edited[(name, key)] = row
    gone = sorted((key for key, hash in sealed.items() if hash is not None), key=str)
    problems += [f"{name} row {key} was deleted" for key in gone]
    return problems


def _name_columns(
    problems: list[str],
    edited: dict[tuple[str, object], Sequence[Any]],
    fetch: Fetch,
    dialect: str,
) -> list[str]:
    """Say which columns of each edited row changed (a second walk, only after tampering)."""
    marks: dict[tuple[str, object], str] = {}
    for batch in fetch(_events_sql(dialect)):
        for row in batch:
            data = row[4]
            if _SEALS_ANYWHERE not in data:
                continue
            try:
                found = json.loads(data).get(SEALS_KEY)
            except ValueError:
                continue
            for item in found if isinstance(found, list) else ():
                key = (item.get("table"), item.get("id"))
                if key in edited and isinstance(item.get("cols"), str):
                    marks[key] = item["cols"]
    by_problem = {f"{name} row {key} was edited": (name, key) for name, key in edited}
    named = []
    for problem in problems:
        found = by_problem.get(problem)
        if found is not None and found in marks:
            columns = changed_columns(SPECS[found[0]], edited[found], marks[found])
            problem = f"{problem}: {', '.join(columns)}" if columns else problem
        named.append(problem)
    return named
