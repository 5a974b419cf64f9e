"""Benchmark of the queue as the dashboard and the API show it, and of cancelling a queued
deployment (not a test: run it by hand, figures go to the report).

    python benchmarks/bench_queue_board.py [N_QUEUED]          # default 200

On a fresh PostgreSQL database (127.0.0.1:5432), a git repository with 20 environments,
N deployments queued (no worker), a quarter of them ``--when-allowed`` behind a freeze:

* ``queue_board.board`` (``GET /api/v1/queue``) — CPU ms per call, against its floor
  measured in the same run: the store's read of the same rows (``queue.listing``);
* the environments page's view (``views.matrix``) with and without the queue's part;
* ``queue_cancel.cancel`` — CPU and wall ms per cancel (the store's UPDATE and event, and
  the job library's cancel on a connection of its own).
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))

from releasegate.service import calendar, queue, queue_board, queue_cancel  # noqa: E402
from releasegate.service.workspace import Workspace  # noqa: E402
from releasegate.web import views  # noqa: E402

ENVS = 20
GIT = ["git", "-c", "user.email=b@example.com", "-c", "user.name=bench"]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _per_call_ms(fn: Callable[[], object], runs: int) -> float:
    """Median CPU ms of ``runs`` calls."""
    took = []
    for _ in range(runs):
        start = _cpu()
        fn()
        took.append((_cpu() - start) * 1000)
    return statistics.median(took)


def main(n: int) -> None:
    db = f"rg_bench_board_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{db}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{db}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            body = "".join(
                f"  e{i}:\n    target:\n      uses: command\n      with:\n"
                f'        deploy: ["true"]\n        rollback: ["true"]\n'
                f"    deploy:\n      - {{id: release, uses: target}}\n" for i in range(ENVS))
            (root / "releasegate.yaml").write_text(f"project: b\nenvironments:\n{body}")
            subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
            subprocess.run([*GIT, "add", "-A"], cwd=root, check=True)
            subprocess.run([*GIT, "commit", "-qm", "c"], cwd=root, check=True)
            ws = Workspace(root / "releasegate.yaml", url)
            actor = ws.actor(requested="bench", env_user=None)
            now = datetime.now(UTC)
            for i in range(0, ENVS, 4):
                calendar.add_freeze(ws, actor, env=f"e{i}", start=now - timedelta(minutes=1),
                                    end=now + timedelta(hours=2), reason="bench")
            started = time.monotonic()
            ids = [queue.enqueue(ws, actor, queue.Request(
                "deploy", f"e{k % ENVS}", f"1.{k}.0", when_allowed=(k % ENVS) % 4 == 0)).id
                for k in range(n)]
            enqueue_s = time.monotonic() - started
            floor = _per_call_ms(lambda: queue.listing(ws, limit=n), 20)
            board = _per_call_ms(lambda: queue_board.board(ws, actor, limit=n), 20)
            shown = queue_board.board(ws, actor, limit=n)
            waiting = sum(1 for q in shown if q["status"] == "waiting")
            saved = queue_board.board_or_empty
            views.matrix(ws, actor)  # warm: the first call reads and caches more than the rest
            with_queue, without = [], []
            for _ in range(7):  # interleaved, so load and caches weigh on both alike
                with_queue.append(_per_call_ms(lambda: views.matrix(ws, actor), 1))
                queue_board.board_or_empty = lambda ws, actor: []  # type: ignore[assignment]
                without.append(_per_call_ms(lambda: views.matrix(ws, actor), 1))
                queue_board.board_or_empty = saved  # type: ignore[assignment]
            cpu, wall = [], []
            for id in ids[: min(50, n)]:
                c0, w0 = _cpu(), time.monotonic()
                queue_cancel.cancel(ws, actor, id)
                cpu.append((_cpu() - c0) * 1000)
                wall.append((time.monotonic() - w0) * 1000)
            ws.close()
        print(f"{n} queued over {ENVS} environments ({waiting} waiting), enqueued in {enqueue_s:.1f}s")
        print(f"board (GET /api/v1/queue): {board:.1f} ms CPU; floor queue.listing {floor:.1f} ms; "
              f"ratio {board / floor:.2f}")
        w, wo = statistics.median(with_queue), statistics.median(without)
        print(f"views.matrix: {w:.1f} ms CPU with the queue, {wo:.1f} ms without "
              f"(+{w - wo:.1f} ms; medians of 7, interleaved)")
        print(f"cancel: {statistics.median(cpu):.1f} ms CPU, {statistics.median(wall):.1f} ms wall "
              f"(median of {len(cpu)}; p95 wall {sorted(wall)[int(len(wall) * 0.95) - 1]:.1f} ms)")
    finally:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE "{db}" WITH (FORCE)')


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
