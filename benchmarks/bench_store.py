"""Store benchmark (SQLite): chain verification, the step hot path, indexed reads.

Run: ``.venv/bin/python benchmarks/bench_store.py [--events N] [--steps N] [--deployments N]``.
Prints ``name: value unit`` lines; CPU time (``time.process_time``) beside wall time, since
wall time on a shared machine is noise. Targets (issue 8): ``verify_chain`` of 1,000,000
events under 5 s; ``status``/``policy explain`` reads flat from 1k to 100k deployments.

Large logs are written straight into SQLite with the store's own definitions (canonical
JSON, the envelope hash, row seals) instead of a million ``append_event`` calls (~4 min);
``verify_chain`` then proves they are exactly what the store writes (it must say ok).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from releasegate.store.api import Store, open_store
from releasegate.store.chain import envelope, hash_envelope
from releasegate.store.connection import canonical_dumps
from releasegate.store.seals import SEALS_KEY, seal_canonical, utc_text
from releasegate.store.tables import GENESIS_HASH

T0 = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


def _timed(action: Callable[[], object]) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return time.perf_counter() - wall, time.process_time() - cpu, result


class _Log:
    """Appends events to a SQLite store file directly, hashing them as the store does."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.id, self.hash = 0, GENESIS_HASH
        self.rows: list[tuple[object, ...]] = []

    def append(self, type: str, data: dict[str, object], deployment_id: int | None, n: int) -> None:
        self.id += 1
        at = T0 + timedelta(microseconds=n * 1000 + 1)
        text = canonical_dumps(data)
        body = envelope(
            id=self.id, deployment_id=deployment_id, at_iso=at.isoformat(),
            type_json=canonical_dumps(type), data_text=text,
        )  # fmt: skip
        prev, self.hash = self.hash, hash_envelope(self.hash, body)
        self.rows.append((self.id, deployment_id, utc_text(at), type, text, prev, self.hash))
        if len(self.rows) >= 20_000:
            self.flush()

    def flush(self) -> None:
        self.db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)", self.rows)
        self.rows.clear()
        self.db.execute(
            "UPDATE event_chain_head SET last_id = ?, last_hash = ?, count = ?",
            (self.id, self.hash, self.id),
        )


def _deployment(db: sqlite3.Connection, log: _Log, d: int) -> None:
    """A running deployment row, sealed by its ``deployment.created`` event."""
    row = (d, "production", f"1.{d}", "normal", "running", "bench", None, 0, None, None, "{}",
           utc_text(T0), None, None, None, None, None)  # fmt: skip
    # the sealed columns, named: later migrations add unsealed ones (project, 0003)
    columns = ("id, environment, version, kind, status, user, reason, emergency, \"commit\", "
               "rollback_of, plan, created_at, started_at, finished_at, detail, os_user, via")
    db.execute(f"INSERT INTO deployments ({columns}) VALUES ({', '.join('?' * len(row))})", row)
    log.append("deployment.created", {SEALS_KEY: [seal_canonical("deployments", row)]}, d, 0)


def _write_generic(path: Path, events: int) -> None:
    """``events`` events like the engine's progress events (the bench before seals)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    log = _Log(db)
    _deployment(db, log, 1)
    for n in range(events - 1):
        data = {"step_id": f"step-{n % 12}", "attempt": 1, "n": n, "ratio": n / 7,
                "summary": "ok: 200 in 12ms"}  # fmt: skip
        log.append("step.progress", data, 1, n)
    log.flush()
    db.execute("COMMIT")
    db.close()


def _write_steps(path: Path, events: int) -> None:
    """``events`` events of real step runs: each run a sealed row and two sealed events."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    log = _Log(db)
    runs: list[tuple[object, ...]] = []
    run_id = 0
    for d in range(1, events // 99 + 1):
        _deployment(db, log, d)
        for step in range(49):
            run_id += 1
            started = utc_text(T0 + timedelta(microseconds=run_id * 1000))
            running = (run_id, d, f"step-{step}", "deploy", 1, "running", "", "", "{}", started,
                       None)  # fmt: skip
            data = {"run_id": run_id, "step_id": f"step-{step}", "phase": "deploy", "attempt": 1}
            log.append("step.started", {SEALS_KEY: [seal_canonical("step_runs", running)], **data},
                       d, run_id)  # fmt: skip
            evidence = canonical_dumps({"status_code": 200, "ms": 12})
            done = (*running[:5], "succeeded", "ok: 200 in 12ms", "ok\n", evidence, started,
                    started)  # fmt: skip
            log.append("step.succeeded",
                       {SEALS_KEY: [seal_canonical("step_runs", done)], **data,
                        "summary": "ok: 200 in 12ms"}, d, run_id)  # fmt: skip
            runs.append(done)
        if len(runs) > 20_000:
            db.executemany("INSERT INTO step_runs VALUES (?,?,?,?,?,?,?,?,?,?,?)", runs)
            runs.clear()
    db.executemany("INSERT INTO step_runs VALUES (?,?,?,?,?,?,?,?,?,?,?)", runs)
    log.flush()
    db.execute("COMMIT")
    db.close()


def bench_verify(folder: Path, events: int, kind: str) -> None:
    """Time ``verify_chain`` over a log of ``events`` (``generic`` or ``steps``)."""
    url = f"sqlite:///{folder / f'verify-{kind}.db'}"
    open_store(url).close()
    (_write_generic if kind == "generic" else _write_steps)(Path(url[10:]), events)
    with open_store(url) as store:
        wall, cpu, report = _timed(store.verify_chain)
        checked = store.count_events()
    if not report.ok:  # type: ignore[attr-defined]
        raise SystemExit(f"verify_chain failed: {report}")
    print(f"store.verify_chain.{kind}: {checked:,} events, {wall:.2f} s wall, {cpu:.2f} s CPU")
    print(f"store.verify_chain.{kind}.rate: {checked / wall:,.0f} events/s")


def bench_steps(folder: Path, steps: int) -> None:
    """CPU per step of the engine's hot path: start_step + finish_step and their events."""
    with open_store(f"sqlite:///{folder / 'steps.db'}") as store:
        d = store.create_deployment(
            environment="production", version="1", kind="normal", user="b", plan={}
        )
        started_wall, started_cpu = time.perf_counter(), time.process_time()
        for n in range(steps):
            run = store.start_step(d.id, step_id=f"s{n % 50}", phase="deploy", attempt=1)
            store.finish_step(run.id, status="succeeded", summary="ok", evidence={"n": n})
        wall = (time.perf_counter() - started_wall) / steps * 1e3
        cpu = (time.process_time() - started_cpu) / steps * 1e3
        wall_count, _, count = _timed(lambda: store.count_events(d.id))
        wall_list, _, listed = _timed(lambda: len(store.list_events(deployment_id=d.id)))
    print(f"store.step.hot_path: {cpu:.3f} ms CPU/step ({wall:.3f} ms wall), {steps:,} steps")
    print(f"store.count_events: {wall_count * 1e3:.2f} ms for {count:,} events "
          f"(list_events: {wall_list * 1e3:.0f} ms for {listed:,})")  # fmt: skip


def _write_deployments(path: Path, count: int) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    rows = (
        (n, ("production", "staging", "qa")[n % 3], f"1.{n}", "normal",
         ("succeeded", "failed", "succeeded", "rolled_back")[n % 4], "bench", 0,
         '{"steps":[]}', utc_text(T0), utc_text(T0))
        for n in range(1, count + 1)
    )  # fmt: skip
    db.executemany(
        "INSERT INTO deployments (id, environment, version, kind, status, user, emergency, "
        "plan, created_at, finished_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    db.execute("COMMIT")
    db.close()


def _reads(store: Store) -> Iterator[object]:
    # what `status` and `policy explain` read per environment
    yield store.list_deployments(environment="production", limit=20)
    yield store.last_successful("production")
    yield store.list_deployments(environment="production", status="succeeded", limit=50)
    yield store.list_deployment_summaries(environment="production", limit=500)
    yield store.get_lock("production")


def bench_reads(folder: Path, sizes: list[int]) -> None:
    """The reads of ``status``/``policy explain`` at each history size: median of 20."""
    for size in sizes:
        url = f"sqlite:///{folder / f'reads-{size}.db'}"
        open_store(url).close()
        _write_deployments(Path(url[10:]), size)
        with open_store(url) as store:
            times = []
            for _ in range(20):
                started = time.perf_counter()
                for _ in _reads(store):
                    pass
                times.append(time.perf_counter() - started)
        print(f"store.reads.status_explain[{size:,} deployments]: "
              f"{statistics.median(times) * 1e3:.2f} ms")  # fmt: skip


def main() -> None:
    """Run the benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=2_000)
    parser.add_argument("--deployments", type=int, nargs="*", default=[1_000, 100_000])
    parser.add_argument("--skip-verify", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        bench_steps(folder, args.steps)
        bench_reads(folder, args.deployments)
        if not args.skip_verify:
            bench_verify(folder, args.events, "generic")
            bench_verify(folder, args.events, "steps")


if __name__ == "__main__":
    main()
