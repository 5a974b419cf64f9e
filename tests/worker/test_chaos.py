"""Chaos: 3 workers, 30 queued deployments over 10 environments, a random worker killed
with ``kill -9`` every few seconds and restarted. Every deployment ends exactly once, no
environment ever runs two at once, the audit trail verifies, nothing is left behind."""

from __future__ import annotations

import itertools
import random
import signal
import time
from collections import Counter, defaultdict

import psycopg
import pytest
from tests.worker.conftest import Team, environment, sleep_step

from releasegate.service import records

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ENVS = [f"e{i}" for i in range(10)]
VERSIONS = ["1.0.0", "1.0.1", "1.0.2"]
FINAL = {"succeeded", "failed", "rolled_back", "rollback_failed", "cancelled", "blocked"}


def test_workers_killed_at_random_every_deployment_ends_once(team: Team) -> None:
    rng = random.Random(12)
    steps = sleep_step("prepare", 0.6) + "      - {id: release, uses: target}\n"
    team.write("".join(environment(e, team.out, deploy=steps) for e in ENVS))
    ids = [team.enqueue(env, v) for v in VERSIONS for env in ENVS]
    workers = {name: team.start_worker(name) for name in ("a", "b", "c")}
    deadline = time.monotonic() + 150
    kills = 0
    while time.monotonic() < deadline:
        open_ = [i for i in ids if team.queued(i).status in ("queued", "waiting", "running")]
        if not open_:
            break
        # often enough that a quiet machine, which ends the 30 quickly, still sees 3 kills
        time.sleep(rng.uniform(1.0, 2.5))
        if kills < 8:  # then let the survivors finish
            name = rng.choice(sorted(workers))
            workers[name].send_signal(signal.SIGKILL)
            workers[name].wait(timeout=10)
            workers[name] = team.start_worker(name)
            kills += 1
    ended = team.wait_ended(ids, timeout=max(deadline - time.monotonic(), 1))
    assert kills >= 3

    ws = team.ws()
    try:
        deployments = {}
        for record in ended:
            assert record.status == "done", record  # none failed for want of a worker
            assert record.deployment_id is not None
            dep = ws.store.get_deployment(record.deployment_id)
            assert dep is not None
            assert dep.status in FINAL, dep
            assert dep.detail or dep.status == "succeeded", dep  # a failure says why
            deployments[dep.id] = dep
        assert len(deployments) == len(ids)  # one deployment per queued one

        events = ws.store.list_events()
        finals = Counter(e.deployment_id for e in events
                         if e.type in {f"deployment.{s}" for s in FINAL})
        assert all(finals[d] == 1 for d in deployments), finals  # ended exactly once
        taken_over = [e for e in events if e.type == "queue.claimed" and e.data.get("takeover")]
        assert taken_over  # the kills did land on running jobs

        by_env: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for dep in ws.store.list_deployments(limit=1000):
            assert dep.finished_at is not None, dep
            by_env[dep.environment].append((dep.created_at.timestamp(), dep.finished_at.timestamp()))
        for env, spans in by_env.items():
            spans.sort()
            for (_, end), (start, _) in itertools.pairwise(spans):
                assert start >= end, f"two deployments at once in {env}: {spans}"

        for env in ENVS:
            assert ws.store.get_lock(env) is None
        audit = records.audit_verify(ws, ws.actor(requested="ci", env_user=None))
        assert audit.ok, audit.problems
    finally:
        ws.close()
    dsn = team.db_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        left = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'releasegate.run_queued' "
            "AND status IN ('todo', 'doing')"
        ).fetchone()
    assert left == (0,)
