"""Seals: each row policy decides on is bound by hash to the chained event that wrote it.

A write that creates or changes a sealed row records, in the event it appends in the same
transaction, a seal ``{"table", "id", "hash", "cols"}``:

* ``hash`` is the sha256 of the row's *canonical text*: the compact JSON array of its
  columns in table order, each in the form both databases give back (a datetime as the
  UTC text ``YYYY-MM-DD HH:MM:SS.ffffff``, a boolean as 0/1, a JSON column as its
  canonical JSON text, a float as a float), so verifying a SQLite row costs one
  ``json.dumps`` of the tuple the driver returns;
* ``cols`` holds 8 hex digits (crc32) per column. It protects nothing (``hash`` does); it
  lets ``audit verify`` name the columns of an edited row.

A deleted row's seal has a null ``hash``. An event's seals sit under :data:`SEALS_KEY` in
its data, a key that sorts first in canonical JSON: verification finds them at a fixed
place without parsing the rest of the event. A lock's ``heartbeat_at``/``expires_at`` are
not sealed: a lease is renewed every few seconds without an event; who holds it, since
when and under which fencing token are.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import JSON, Boolean, Float, Integer, String, Table

from releasegate.store.columns import UTCDateTime
from releasegate.store.connection import canonical_dumps
from releasegate.store.records import JsonDict
from releasegate.store.schema import metadata

if TYPE_CHECKING:
    from releasegate.store.tables import Base

SEALS_KEY = "_seals"
SEALED_TABLES = (
    "deployments",
    "step_runs",
    "locks",
    "approvals",
    "confirmations",
    "freezes",
    "incidents",
    "campaigns",
    "obligations",
)
"""The tables whose every row must carry a seal, in the order ``audit verify`` reports them."""
_UNSEALED_COLUMNS = {
    "locks": ("heartbeat_at", "expires_at"),
    # the project a record belongs to (migration 0003) and a run's duration (0006) are for
    # metrics, not for policy; rows sealed before they existed keep verifying
    "deployments": ("project", "duration_s"),
    "incidents": ("project",),
}
Normaliser = Callable[[object], object]


def utc_text(value: datetime) -> str:
    """The canonical form of a datetime: UTC as ``YYYY-MM-DD HH:MM:SS.ffffff``."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} given to the store: use UTC")
    # the text SQLAlchemy stores in SQLite (four-digit year, six-digit fraction)
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _as_is(value: object) -> object:
    return value


def _as_float(value: object) -> object:
    return float(cast(float, value))


def _as_int(value: object) -> object:
    return int(cast(int, value))


def _as_json(value: object) -> object:
    return canonical_dumps(value)


def _as_utc_text(value: object) -> object:
    return utc_text(cast(datetime, value))


@dataclass(frozen=True)
class TableSpec:
    """Which columns of a table are sealed, in order, and how each is made canonical."""

    name: str
    key: str
    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    """Per column: ``dt``, ``bool``, ``json``, ``float``, ``int`` or ``str``."""

    @property
    def key_index(self) -> int:
        return self.columns.index(self.key)

    @property
    def normalisers(self) -> tuple[Normaliser, ...]:
        return tuple(_NORMALISERS[kind] for kind in self.kinds)


_NORMALISERS: dict[str, Normaliser] = {
    "dt": _as_utc_text,
    "bool": _as_int,
    "json": _as_json,
    "float": _as_float,
    "int": _as_int,
    "str": _as_is,
}


def _kind(column_type: object) -> str:
    for cls, kind in (
        (UTCDateTime, "dt"),
        (Boolean, "bool"),
        (JSON, "json"),
        (Float, "float"),
        (Integer, "int"),
        (String, "str"),
    ):
        if isinstance(column_type, cls):
            return kind
    raise TypeError(f"no canonical form for a column of type {column_type!r}")


def _spec(table: Table) -> TableSpec:
    left_out = _UNSEALED_COLUMNS.get(table.name, ())
    columns = [c for c in table.columns if c.name not in left_out]
    (key,) = table.primary_key.columns
    return TableSpec(
        name=table.name,
        key=key.name,
        columns=tuple(c.name for c in columns),
        kinds=tuple(_kind(c.type) for c in columns),
    )


SPECS: dict[str, TableSpec] = {name: _spec(metadata.tables[name]) for name in SEALED_TABLES}
_NORMALISE = {name: spec.normalisers for name, spec in SPECS.items()}
_KEY_INDEX = {name: spec.key_index for name, spec in SPECS.items()}


_ROW_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _refuse(value: object) -> object:
    raise TypeError(f"{type(value).__name__} is not a canonical column value")


# The C encoder behind json.dumps, made once: ``json.dumps(..., separators=...)`` builds a
# new encoder on every call, which is half the cost of verifying a row. Canonical values
# are flat (JSON columns are already text), so the circular-reference check is not needed.
_MAKE_ENCODER: Callable[..., Callable[[object, int], Sequence[str]]] | None = getattr(
    json.encoder, "c_make_encoder", None
)
_C_ENCODER = (
    None
    if _MAKE_ENCODER is None
    else _MAKE_ENCODER(
        None, _refuse, json.encoder.encode_basestring, None, ":", ",", False, False, True
    )
)


def encode_canonical(value: object) -> str:
    """Compact JSON (UTF-8 characters as they are) of a canonical value or row of values."""
    if _C_ENCODER is None:  # a Python without the C accelerator
        return _ROW_ENCODER.encode(value)
    return "".join(_C_ENCODER(value, 0))


_dump = encode_canonical


def seal_canonical(table: str, canonical: Sequence[object]) -> JsonDict:
    """The seal of a row of ``table`` given its canonical values, in column order."""
    parts = [_dump(value) for value in canonical]
    text = "[" + ",".join(parts) + "]"
    key = canonical[_KEY_INDEX[table]]
    return {
        "table": table,
        "id": cast(int | str, key),
        "hash": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "cols": column_marks(parts),
    }


def seal(table: str, values: Mapping[str, Any]) -> JsonDict:
    """The seal of a row of ``table`` with these column values (as Python gives them)."""
    normalise = _NORMALISE[table]
    canonical = [
        None if (value := values[column]) is None else fn(value)
        for column, fn in zip(SPECS[table].columns, normalise, strict=True)
    ]
    return seal_canonical(table, canonical)


def seal_row(row: Base) -> JsonDict:
    """The seal of an ORM row (after a flush: its key is known)."""
    table = cast(Table, row.__table__).name
    return seal(table, {column: getattr(row, column) for column in SPECS[table].columns})


def deleted(table: str, id: int | str) -> JsonDict:
    """The seal recording that a row was deleted by releasegate."""
    return {"table": table, "id": id, "hash": None}


def row_hash(canonical: Sequence[object]) -> str:
    """The ``hash`` of a seal, from the canonical values a verifying query returns."""
    return hashlib.sha256(encode_canonical(canonical).encode("utf-8")).hexdigest()


def column_marks(parts: Sequence[str]) -> str:
    """The ``cols`` of a seal: crc32 of each column's canonical JSON, 8 hex digits each."""
    return "".join(f"{zlib.crc32(part.encode('utf-8')):08x}" for part in parts)


def recanonicalised(spec: TableSpec, canonical: Sequence[object]) -> list[object]:
    """``canonical`` with each JSON column parsed and written again canonically.

    Rows written before canonical JSON (releasegate < 0002) keep their original text; a
    seal taken of the value verifies once its text is re-encoded.
    """
    out = list(canonical)
    for i, kind in enumerate(spec.kinds):
        if kind == "json" and isinstance(out[i], str):
            # not JSON at all: left as it is, the hash will not match and the row is named
            with contextlib.suppress(ValueError):
                out[i] = canonical_dumps(json.loads(cast(str, out[i])))
    return out


def changed_columns(spec: TableSpec, canonical: Sequence[object], cols: str) -> list[str]:
    """The columns whose value matches the marks of their seal neither as stored nor with
    its JSON re-encoded (a seal of a row written before canonical JSON marks its old text)."""
    stored = column_marks([_dump(value) for value in canonical])
    encoded = column_marks([_dump(value) for value in recanonicalised(spec, canonical)])
    return [
        column
        for i, column in enumerate(spec.columns)
        if cols[i * 8 : i * 8 + 8] not in (stored[i * 8 : i * 8 + 8], encoded[i * 8 : i * 8 + 8])
    ]


def select_sql(spec: TableSpec, dialect: str, quote: Callable[[str], str]) -> str:
    """A query returning every row of ``spec`` as canonical values, in key order."""
    expressions = []
    for column, kind in zip(spec.columns, spec.kinds, strict=True):
        name = quote(column)
        if dialect == "postgresql" and kind == "dt":
            name = f"to_char({name} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
        elif dialect == "postgresql" and kind == "bool":
            name = f"{name}::int"
        elif dialect == "postgresql" and kind == "json":
            name = f"{name}::text"
        expressions.append(name)
    return f"SELECT {', '.join(expressions)} FROM {quote(spec.name)} ORDER BY {quote(spec.key)}"
