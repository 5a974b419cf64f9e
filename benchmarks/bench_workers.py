"""Benchmark of team mode (not a test: run it by hand, figures go to the report).

    python benchmarks/bench_workers.py [N_DEPLOYMENTS] [WORKER_COUNTS]   # default 1000 1,2,4
    python benchmarks/bench_workers.py takeover                           # the takeovers only

On a fresh PostgreSQL database (127.0.0.1:5432), a git repository with 50 environments of
three ``command`` steps (``true``):

* **throughput** — N deployments queued over 50 environments, then W workers started:
  deployments finished per second from the first start to the last end, and the CPU
  seconds the workers spent per deployment (the figure that holds on a busy machine);
* **queue-to-start latency** — with W idle workers, 20 deployments queued one at a time:
  from ``queued`` to the deployment's record (p50/p95);
* **takeover** — one worker killed with ``kill -9`` in the middle of a 30 s step while a
  second waits: from the kill to the deployment resumed by the second (against the lease
  + 10 s); on the same host, and (as root, with ``unshare``) from a worker under another
  host name, whose lease the survivor must let expire.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))

from releasegate.service import queue  # noqa: E402
from releasegate.service.workspace import Workspace  # noqa: E402

ENVS = 50
LEASE_S = 10.0
GIT = ["git", "-c", "user.email=b@example.com", "-c", "user.name=bench"]


def _env(name: str, out: Path, steps: str) -> str:
    live = out / f"live-{name}"
    return (
        f"  {name}:\n    target:\n      uses: command\n      with:\n"
        f'        deploy: [sh, -c, "echo {{version}} > {live}"]\n'
        f'        rollback: [sh, -c, "echo {{version}} > {live}"]\n'
        f"        current: [cat, {live}]\n    deploy:\n{steps}"
    )


THREE = ('      - {id: one, uses: command, with: {run: ["true"]}}\n'
         "      - {id: release, uses: target}\n"
         '      - {id: three, uses: command, with: {run: ["true"]}}\n')
SLOW = ('      - {id: slow, uses: command, with: {run: [sleep, "30"]}}\n'
        "      - {id: release, uses: target}\n")


class Bench:
    def __init__(self, tmp: Path, db: str) -> None:
        self.tmp, self.db = tmp, db
        self.repo = tmp / "repo"
        self.out = tmp / "out"
        self.repo.mkdir()
        self.out.mkdir()
        subprocess.run(["git", "init", "-q"], cwd=self.repo, check=True)
        body = "".join(_env(f"e{i}", self.out, THREE) for i in range(ENVS)) + _env("slow", self.out, SLOW)
        (self.repo / "releasegate.yaml").write_text(f"project: b\naudit: {{anchor: none}}\nenvironments:\n{body}")
        subprocess.run([*GIT, "add", "-A"], cwd=self.repo, check=True)
        subprocess.run([*GIT, "commit", "-qm", "c"], cwd=self.repo, check=True)
        self.ws = Workspace(self.repo / "releasegate.yaml", db)
        self.actor = self.ws.actor(requested="bench", env_user=None)
        self.procs: list[subprocess.Popen[bytes]] = []
        self.n = 0

    def enqueue(self, env: str) -> int:
        self.n += 1
        return queue.enqueue(self.ws, self.actor, queue.Request("deploy", env, f"1.0.{self.n}")).id

    def worker(self, name: str, host: str | None = None) -> subprocess.Popen[bytes]:
        """A worker process; with ``host``, in a UTS namespace of that host name (as root):
        a worker "on another machine", whose lease a survivor must wait out."""
        env = {**os.environ, "PYTHONPATH": str(SRC), "RELEASEGATE_DATABASE_URL": self.db}
        other = ["unshare", "--uts", "sh", "-c", f'hostname {host} && exec "$@"', "sh"] if host else []
        proc = subprocess.Popen(
            [*other, sys.executable, "-m", "releasegate", "worker", "--cache", str(self.tmp / f"cache-{name}"),
             "--lease", str(LEASE_S), "--heartbeat", "1", "--stalled-after", "3"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.procs.append(proc)
        return proc

    def stop(self) -> float:
        """Stop every worker (SIGTERM); their CPU seconds."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            p.wait(timeout=120)
        self.procs.clear()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)

    def rows(self, ids: list[int]) -> list[tuple[float, float, float, str]]:
        """(queued, started, finished, status) of queued deployments ``ids``, once ended."""
        with psycopg.connect(self.db.replace("+psycopg", "")) as conn:
            return [
                (r[0].timestamp(), r[1].timestamp(), r[2].timestamp(), r[3])
                for r in conn.execute(
                    "SELECT q.created_at, d.created_at, d.finished_at, d.status FROM queued_deployments q "
                    "JOIN deployments d ON d.id = q.deployment_id WHERE q.id = ANY(%s)", (ids,)
                )
            ]

    def wait(self, ids: list[int], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.db.replace("+psycopg", ""), autocommit=True) as conn:
            while time.monotonic() < deadline:
                row = conn.execute(
                    "SELECT count(*) FROM queued_deployments WHERE id = ANY(%s) AND status IN "
                    "('queued', 'waiting', 'running')", (ids,)).fetchone()
                if row == (0,):
                    return
                time.sleep(0.2)
        raise RuntimeError(f"{len(ids)} deployments did not end within {timeout}s")


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]  # type: ignore[index, call-overload]


def throughput(b: Bench, n: int, workers: int) -> None:
    ids = [b.enqueue(f"e{i % ENVS}") for i in range(n)]
    for w in range(workers):
        b.worker(f"t{workers}-{w}")
    b.wait(ids, timeout=3600)
    cpu = b.stop()
    rows = b.rows(ids)
    first, last = min(r[1] for r in rows), max(r[2] for r in rows)
    ok = sum(r[3] == "succeeded" for r in rows)
    print(f"throughput workers={workers}: {n / (last - first):.2f} deployments/s "
          f"({n} in {last - first:.1f}s, {ok} succeeded), worker CPU {cpu / n * 1000:.0f} ms/deployment",
          flush=True)


def latency(b: Bench, workers: int, samples: int = 20) -> None:
    for w in range(workers):
        b.worker(f"l{workers}-{w}")
    time.sleep(3)  # registered and idle
    waits = []
    for i in range(samples):
        id = b.enqueue(f"e{i % ENVS}")
        b.wait([id], timeout=120)
        q, started, _, _ = b.rows([id])[0]
        waits.append((started - q) * 1000)
    b.stop()
    print(f"queue-to-start workers={workers}: p50 {_pct(waits, 50):.0f} ms, p95 {_pct(waits, 95):.0f} ms",
          flush=True)


def takeover(b: Bench, host: str | None) -> None:
    first = b.worker(f"k1{host or ''}", host)
    time.sleep(2)
    id = b.enqueue("slow")
    with psycopg.connect(b.db.replace("+psycopg", ""), autocommit=True) as conn:
        deadline = time.monotonic() + 60
        while conn.execute("SELECT deployment_id FROM queued_deployments WHERE id = %s",
                           (id,)).fetchone() == (None,):
            if time.monotonic() > deadline:
                raise RuntimeError("the slow deployment did not start")
            time.sleep(0.05)
        time.sleep(1)
        b.worker(f"k2{host or ''}")
        time.sleep(2)
        first.send_signal(signal.SIGKILL)
        killed = time.time()
        while True:
            row = conn.execute(
                "SELECT e.at FROM events e JOIN queued_deployments q ON q.deployment_id = e.deployment_id "
                "WHERE q.id = %s AND e.type = 'deployment.resumed'", (id,)).fetchone()
            if row is not None:
                break
            if time.time() - killed > LEASE_S + 60:
                raise RuntimeError("no takeover")
            time.sleep(0.05)
    where = f"from another host ({host})" if host else "on the same host (the dead holder's lease is taken at once)"
    print(f"takeover after kill -9 {where}: {row[0].timestamp() - killed:.1f}s (lease {LEASE_S:.0f}s, "
          f"target <= {LEASE_S + 10:.0f}s)", flush=True)
    b.stop()


def main(argv: list[str]) -> int:
    only_takeover = argv[:1] == ["takeover"]
    if only_takeover:
        argv = ["0", ""]
    n = int(argv[0]) if argv else 1000
    counts = [int(c) for c in (argv[1] if len(argv) > 1 else "1,2,4").split(",") if c]
    name = f"rg_bench_{uuid.uuid4().hex[:8]}"
    admin = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory() as tmp:
            b = Bench(Path(tmp), f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
            for w in counts:
                throughput(b, n, w)
            for w in counts:
                latency(b, w)
            takeover(b, None)
            if os.geteuid() == 0 and shutil.which("unshare"):
                takeover(b, "bench-other-host")
            b.ws.close()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
