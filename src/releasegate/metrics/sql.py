"""The store's tables as metrics read them, and the SQL that differs between backends.

Everything here compiles to the same figures on SQLite and PostgreSQL: seconds between two
timestamps, the Monday of a timestamp's week, and nearest-rank percentiles (integer
arithmetic, so no ``ceil`` or ``percentile_cont`` that only one backend has).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, Integer, String, case, column, func, select, table, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.expression import Alias
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal

from releasegate.store.columns import UTCDateTime

# Lightweight views: only the columns metrics read (``project`` comes with migration 0003).
deployments = table(
    "deployments",
    column("id", Integer),
    column("project", String),
    column("environment", String),
    column("version", String),
    column("kind", String),
    column("status", String),
    column("rollback_of", Integer),
    column("started_at", UTCDateTime()),
    column("finished_at", UTCDateTime()),
    column("duration_s", Float),
)
step_runs = table(
    "step_runs",
    column("id", Integer),
    column("deployment_id", Integer),
    column("step_id", String),
    column("phase", String),
    column("status", String),
    column("summary", String),
    column("evidence", JSON),
    column("started_at", UTCDateTime()),
    column("finished_at", UTCDateTime()),
)
incidents = table(
    "incidents",
    column("id", Integer),
    column("project", String),
    column("environment", String),
    column("opened_at", UTCDateTime()),
    column("closed_at", UTCDateTime()),
)


class seconds_between(FunctionElement[float]):
    """``seconds_between(later, earlier)``: the difference in seconds, as a float."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"((julianday({compiler.process(later, **kw)}) - "
        f"julianday({compiler.process(earlier, **kw)})) * 86400.0)"
    )


@compiles(seconds_between, "postgresql")
def _seconds_pg(element: seconds_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - "
        f"{compiler.process(earlier, **kw)}))::float8"
    )


class week_of(FunctionElement[str]):
    """The Monday (UTC) of a timestamp's ISO week, as ``YYYY-MM-DD`` text."""

    type = String()
    inherit_cache = True
    name = "week_of"


@compiles(week_of, "sqlite")
def _week_sqlite(element: week_of, compiler: Any, **kw: Any) -> str:
    (value,) = list(element.clauses)
    # 'weekday 0' moves to the next Sunday (or stays on one); six days back is its Monday
    return f"date({compiler.process(value, **kw)}, 'weekday 0', '-6 days')"


@compiles(week_of, "postgresql")
def _week_pg(element: week_of, compiler: Any, **kw: Any) -> str:
    (value,) = list(element.clauses)
    return (
        f"to_char(date_trunc('week', ({compiler.process(value, **kw)}) AT TIME ZONE 'UTC'), "
        "'YYYY-MM-DD')"
    )


def percentiles(values: Select[Any], *points: int, dialect: str = "sqlite") -> Select[Any]:
    """Nearest-rank percentiles of the one-column ``values``, NULLs left out: a row of
    ``(total, n, p<points[0]>, …)`` where ``total`` counts the NULLs too and the p-th
    percentile is the value at rank ceil(p·n/100) among the ``n`` others.

    PostgreSQL's ``percentile_disc`` is that same definition, computed natively (several
    times faster than ranking with a window); SQLite ranks with ``row_number()``."""
    x = values.subquery("v").c[0]
    if dialect == "postgresql":
        return select(
            func.count().label("total"), func.count(x).label("n"),
            *(func.percentile_disc(p / 100).within_group(x).label(f"p{p}") for p in points),
        )
    nulls_last = case((x.is_(None), 1), else_=0)
    ranked = select(
        x.label("x"),
        func.row_number().over(order_by=(nulls_last, x)).label("rn"),
        func.count(x).over().label("n"),
        func.count().over().label("total"),
    ).subquery("ranked")
    picks: list[ColumnElement[Any]] = [
        func.max(ranked.c.total).label("total"), func.max(ranked.c.n).label("n"),
    ]
    for p in points:
        rank = (ranked.c.n * p + 99) // 100  # integer division on both backends
        picks.append(func.max(case((ranked.c.rn == rank, ranked.c.x), else_=None)).label(f"p{p}"))
    return select(*picks)


def earliest(*values: ColumnElement[Any]) -> ColumnElement[Any]:
    """The earliest non-NULL of some timestamps (NULL when all are): ``min()`` over their
    union, which skips NULLs on both backends (SQLite's scalar ``min(a, b)`` is NULL when
    either is). Each value is computed once: a nest of CASEs repeated the correlated
    subqueries in it, three times over for three values."""
    rows = union_all(*(select(v.label("at")) for v in values)).subquery("candidates")
    return select(func.min(rows.c.at)).scalar_subquery()


class IndexedAlias(Alias):
    """An alias that SQLite reads through a named index (``INDEXED BY``); other backends
    choose for themselves. For the walks along a figure's index: SQLite's planner prefers
    a range of the (project, finished_at…) index and a sort of a million rows."""

    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012 — SQLAlchemy's own convention
        *Alias._traverse_internals, ("index", InternalTraversal.dp_string),
    ]
    index: str = ""


@compiles(IndexedAlias, "sqlite")
def _indexed_sqlite(element: IndexedAlias, compiler: Any, **kw: Any) -> str:
    text: str = compiler.visit_alias(element, **kw)
    return f"{text} INDEXED BY {element.index}" if kw.get("asfrom") else text


def indexed(source: Any, name: str, index: str) -> IndexedAlias:
    """``source AS name``, read through ``index`` on SQLite."""
    alias: IndexedAlias = IndexedAlias._construct(source, name=name)
    alias.index = index
    return alias


def ranks(n: int, *points: int) -> dict[int, int]:
    """The nearest rank (1-based) of each percentile among ``n`` values: ceil(p·n/100)."""
    return {p: max(1, (n * p + 99) // 100) for p in points}


def value_at(values: Select[Any], rank: int, n: int) -> Select[Any]:
    """The value at ``rank`` (1-based) among the ``n`` non-NULL values of the one-column
    ``values``: a walk along an index ordered by the value, from whichever end is nearer
    (the 90th percentile of a million is 100,000 steps from the top, not 900,000)."""
    x = values.selected_columns[0]
    ordered = values.where(x.is_not(None)).limit(1)
    if rank <= n - rank + 1:
        return ordered.order_by(x.asc()).offset(rank - 1)
    return ordered.order_by(x.desc()).offset(n - rank)
