"""system, postgres and redis sources against this machine and its real servers."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from releasegate.drivers.sources.postgres import Postgres, _slow_calls
from releasegate.drivers.sources.redis import Redis
from releasegate.drivers.sources.system import System
from releasegate.errors import DriverError
from releasegate.testing import StaticSecrets, make_context
from sources.conftest import read_source


@dataclass
class Busy:
    process: subprocess.Popen[bytes]
    marker: str


@pytest.fixture
def busy_child() -> Iterator[Busy]:
    """A process spinning on a CPU, marked by an environment variable."""
    marker = uuid.uuid4().hex
    env = {**os.environ, "RG_TEST_MARK": marker}
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"], env=env)
    try:
        yield Busy(proc, marker)
    finally:
        proc.kill()
        proc.wait()


def test_system_without_a_selector_reports_the_host() -> None:
    [sample] = read_source(System(), {})
    assert set(sample.values) == {"cpu", "memory", "host_cpu", "host_memory"}
    assert 0 < sample.values["host_memory"] < 100
    assert sample.values["memory"] == sample.values["host_memory"]
    assert sample.missing == {"rss": "no processes were chosen", "processes": "no processes were chosen"}


def test_system_measures_the_processes_chosen_by_environment(busy_child: Busy) -> None:
    [sample] = read_source(System(), {"env": {"RG_TEST_MARK": busy_child.marker}}, seconds=0.5)
    assert sample.values["processes"] == 1
    assert sample.values["cpu"] > 0  # it spun for the whole interval
    assert sample.values["rss"] > 1


def test_system_by_pid_file_and_nothing_matched(tmp_path: Path, busy_child: Busy) -> None:
    (tmp_path / "app.pid").write_text(f"{busy_child.process.pid}\n")
    [sample] = read_source(System(), {"pid_files": ["app.pid"]}, ctx=make_context(workdir=tmp_path))
    assert sample.values["processes"] == 1
    [sample] = read_source(System(), {"cmdline": "no-such-process-[0-9a-f]{32}"})
    assert sample.values["processes"] == 0
    assert sample.missing["cpu"] == "no process matched"


def test_postgres_reports_connections_size_and_slow_queries(pg_url: str) -> None:
    dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
    sleeper = psycopg.connect(dsn, autocommit=True)
    pid = sleeper.info.backend_pid

    def sleep() -> None:
        with contextlib.suppress(psycopg.errors.QueryCanceled):  # we cancel it when done
            sleeper.execute("SELECT pg_sleep(30)")

    worker = threading.Thread(target=sleep)
    worker.start()
    try:
        with psycopg.connect(dsn, autocommit=True) as watch:
            _wait_until_active(watch, pid)
            [sample] = read_source(Postgres(), {"dsn": pg_url, "slow": "100ms"}, seconds=0.3)
            watch.execute("SELECT pg_cancel_backend(%s)", (pid,))
    finally:
        worker.join()
        sleeper.close()
    assert sample.values["pg_connections"] >= 2  # the sleeper and us
    assert 0 < sample.values["pg_connections_pct"] < 100
    assert sample.values["pg_slow_queries"] >= 1
    assert sample.values["pg_db_size"] > 1
    assert "pg_disk_free" in sample.values or "pg_disk_free" in sample.missing


def _wait_until_active(conn: psycopg.Connection[tuple[object, ...]], pid: int) -> None:
    for _ in range(500):
        row = conn.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
        if row and row[0] == "active":
            return
        threading.Event().wait(0.02)
    raise AssertionError("the sleeping query never started")


def test_postgres_unreachable_is_unreadable_without_the_password(refused_url: str) -> None:
    port = refused_url.rsplit(":", 1)[1]
    secrets = StaticSecrets({"DATABASE_URL": f"postgresql://app:hunter2-secret@127.0.0.1:{port}/app"})
    with pytest.raises(DriverError) as err:
        read_source(Postgres(), {"dsn": "${env:DATABASE_URL}", "timeout": "2s"}, seconds=0,
                    ctx=make_context(secrets=secrets))  # fmt: skip
    assert str(err.value).startswith("postgres: cannot connect: ")
    assert "hunter2" not in str(err.value)


def test_redis_reports_memory_against_its_limit_and_clients() -> None:
    [sample] = read_source(Redis(), {"url": "redis://127.0.0.1:6379/0"})
    assert sample.values["redis_memory"] > 0
    assert 0 < sample.values["redis_memory_pct"] < 100
    assert sample.values["redis_clients"] >= 1
    assert sample.values["redis_rejected_connections"] == 0


def test_redis_unreachable_is_unreadable(refused_url: str) -> None:
    port = refused_url.rsplit(":", 1)[1]
    with pytest.raises(DriverError, match=r"^redis: Error 111 connecting to 127.0.0.1:\d+"):
        read_source(Redis(), {"url": f"redis://127.0.0.1:{port}/0", "timeout": "1s"}, seconds=0)


def test_postgres_with_pg_stat_statements_not_preloaded_falls_back_to_activity(pg_url: str) -> None:
    dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    [sample] = read_source(Postgres(), {"dsn": pg_url}, seconds=0.1)
    assert sample.values["pg_slow_queries"] == 0


def test_slow_calls_count_the_calls_of_the_interval_whose_mean_was_slow() -> None:
    before = {1: (10, 100.0), 2: (5, 50_000.0)}
    after = {1: (20, 200.0), 2: (8, 56_000.0), 3: (1, 1500.0)}
    # query 1: 10 calls of 10 ms; query 2: 3 calls of 2 s; query 3 (new): 1 call of 1.5 s
    assert _slow_calls(before, after, 1000.0) == 4
