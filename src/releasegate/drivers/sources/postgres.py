"""``postgres``: connections, slow queries, database size and free disk of a PostgreSQL.

* ``pg_connections`` — client backends connected (``pg_stat_activity``), and
  ``pg_connections_pct`` of ``max_connections``;
* ``pg_slow_queries`` — with ``pg_stat_statements`` installed in the database: calls in
  the interval of statements whose mean time over the interval exceeded ``slow``;
  without it: queries running longer than ``slow`` at the interval's end;
* ``pg_db_size`` — the database's size (MB);
* ``pg_disk_free`` — free space (%) of the volume holding the data directory, when it is
  on this machine and the role may read ``data_directory``.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import ClassVar

import psycopg
from pydantic import Field

from releasegate.config.types import Duration
from releasegate.drivers.api import MetricUnit, Options, Sample, StepContext
from releasegate.drivers.process import resolve_secret
from releasegate.errors import DriverError

METRICS: dict[str, MetricUnit] = {
    "pg_connections": "",
    "pg_connections_pct": "%",
    "pg_slow_queries": "",
    "pg_db_size": "MB",
    "pg_disk_free": "%",
}
_STATEMENTS = "SELECT queryid, calls, total_exec_time FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
_CONNECTIONS = (
    "SELECT count(*) FILTER (WHERE backend_type = 'client backend'), "
    "current_setting('max_connections')::int FROM pg_stat_activity"
)
_LONG_RUNNING = (
    "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() "
    "AND now() - query_start > make_interval(secs => %s)"
)


class PostgresOptions(Options):
    """Options of the ``postgres`` source."""

    dsn: str = Field(
        description="libpq URL or key=value string; usually a secret reference such as "
        "${env:DATABASE_URL}."
    )
    slow: Duration = Field(timedelta(seconds=1), description="A query slower than this is slow.")
    timeout: Duration = Field(timedelta(seconds=10), description="Connect timeout.")


def _dsn(value: str) -> str:
    # SQLAlchemy-style URLs name their driver; libpq does not know "+psycopg".
    return value.replace("postgresql+psycopg://", "postgresql://", 1)


Snapshot = dict[int, tuple[int, float]]


class Postgres:
    """Reads the server's statistics views at both ends of the interval."""

    name: ClassVar[str] = "postgres"
    Options: ClassVar[type[PostgresOptions]] = PostgresOptions

    def metrics(self, options: PostgresOptions) -> Mapping[str, MetricUnit]:
        return METRICS

    async def _connect(self, options: PostgresOptions, ctx: StepContext) -> psycopg.AsyncConnection[tuple[object, ...]]:
        dsn = _dsn(resolve_secret(ctx, options.dsn, what="postgres dsn"))
        try:
            return await psycopg.AsyncConnection.connect(
                dsn, autocommit=True, connect_timeout=max(1, int(options.timeout.total_seconds()))
            )
        except psycopg.Error as exc:
            # the message may quote the DSN: redact whatever secrets it holds
            reason = ctx.secrets.redact(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
            raise DriverError(f"postgres: cannot connect: {reason}") from exc

    async def sample(self, options: PostgresOptions, ctx: StepContext, *, seconds: float) -> Sample:
        try:
            async with await self._connect(options, ctx) as conn:
                before = await _statements(conn)
            await asyncio.sleep(seconds)
            async with await self._connect(options, ctx) as conn:
                return await self._read(conn, options, before)
        except psycopg.Error as exc:
            raise DriverError(f"postgres: {ctx.secrets.redact(str(exc).strip())}") from exc

    async def _read(self, conn: psycopg.AsyncConnection[tuple[object, ...]], options: PostgresOptions, before: Snapshot | None) -> Sample:
        values: dict[str, float] = {}
        missing: dict[str, str] = {}
        cur = await conn.execute(_CONNECTIONS)
        row = await cur.fetchone()
        assert row is not None
        used, limit = int(str(row[0])), int(str(row[1]))
        values["pg_connections"] = float(used)
        values["pg_connections_pct"] = 100.0 * used / limit
        slow_ms = options.slow.total_seconds() * 1000
        after = await _statements(conn)
        if before is not None and after is not None:
            values["pg_slow_queries"] = _slow_calls(before, after, slow_ms)
        else:
            cur = await conn.execute(_LONG_RUNNING, (options.slow.total_seconds(),))
            row = await cur.fetchone()
            values["pg_slow_queries"] = float(str(row[0])) if row else 0.0
        cur = await conn.execute("SELECT pg_database_size(current_database())")
        row = await cur.fetchone()
        values["pg_db_size"] = float(str(row[0])) / 1048576 if row else 0.0
        free = await _disk_free(conn)
        if isinstance(free, str):
            missing["pg_disk_free"] = free
        else:
            values["pg_disk_free"] = free
        return Sample(at=time.time(), values=values, missing=missing)


async def _statements(conn: psycopg.AsyncConnection[tuple[object, ...]]) -> Snapshot | None:
    """Calls and total time per statement, or None without ``pg_stat_statements``."""
    cur = await conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")
    if await cur.fetchone() is None:
        return None
    try:
        cur = await conn.execute(_STATEMENTS)
    except psycopg.Error:  # installed but not preloaded: the view cannot be read
        return None
    return {int(str(q)): (int(str(c)), float(str(t))) for q, c, t in await cur.fetchall()}


def _slow_calls(before: Snapshot, after: Snapshot, slow_ms: float) -> float:
    slow = 0
    for query, (calls, total) in after.items():
        calls0, total0 = before.get(query, (0, 0.0))
        new = calls - calls0
        if new > 0 and (total - total0) / new > slow_ms:
            slow += new
    return float(slow)


async def _disk_free(conn: psycopg.AsyncConnection[tuple[object, ...]]) -> float | str:
    """Free space of the data directory's volume (%), or why it cannot be known."""
    try:
        cur = await conn.execute("SELECT current_setting('data_directory')")
        row = await cur.fetchone()
    except psycopg.Error:
        return "data_directory is not readable by this role"
    try:
        usage = await asyncio.to_thread(shutil.disk_usage, str(row[0]) if row else "")
    except OSError:
        return "the data directory is not on this machine"
    return 100.0 * usage.free / usage.total
