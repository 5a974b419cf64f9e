"""Cancelling a queued deployment before a worker starts it: ``cancel q12``, with real
worker processes on a real PostgreSQL store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from tests.worker.conftest import Team, environment, sleep_step, wait_for

from releasegate.service import calendar, jobs, records

pytestmark = pytest.mark.postgres


def _job_status(team: Team, job_id: int | None) -> str | None:
    """The job library's status of ``job_id`` (None: deleted, as a worker does once a job
    succeeds)."""
    assert job_id is not None
    with psycopg.connect(jobs.conninfo(team.db_url)) as conn:
        row = conn.execute("SELECT status FROM procrastinate_jobs WHERE id = %s", (job_id,)).fetchone()
    return None if row is None else str(row[0])


def _deployed_versions(team: Team) -> list[str]:
    ws = team.ws()
    try:
        return [d.version for d in ws.store.list_deployments(limit=50)]
    finally:
        ws.close()


def test_a_cancelled_queued_deployment_never_runs_and_its_job_is_cancelled(team: Team) -> None:
    team.write(environment("staging", team.out))
    first = team.enqueue("staging", "1.0.0")
    done = team.cli("cancel", f"q{first}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"q{first} deploy staging 1.0.0: cancelled; it will not run"
    record = team.queued(first)
    assert record.status == "cancelled"
    assert _job_status(team, record.job_id) == "cancelled"
    again = team.cli("cancel", f"q{first}")  # cancelling once is all there is
    assert again.returncode == 2
    assert f"q{first} (deploy staging 1.0.0) has already ended (cancelled" in again.stderr

    # the identical deployment may be queued again (the cancelled job no longer holds its
    # place), and a worker runs that one — never the cancelled one
    second = team.enqueue("staging", "1.0.0")
    team.start_worker("a")
    [ran] = team.wait_ended([second], timeout=60)
    assert (ran.detail or "").startswith("succeeded")
    assert _deployed_versions(team) == ["1.0.0"]  # one deployment: the second's
    cancelled = team.queued(first)
    assert (cancelled.status, cancelled.deployment_id) == ("cancelled", None)
    ws = team.ws()
    try:
        [event] = [e for e in ws.store.list_events() if e.type == "queue.cancelled"]
        assert event.data["queued"] == first
        assert cancelled.detail == f"cancelled by {event.data['by']} before it started"
        audit = records.audit_verify(ws, ws.actor(requested="ci", env_user=None))
        assert audit.ok, audit.problems
    finally:
        ws.close()


def test_a_worker_that_takes_the_job_of_a_cancelled_deployment_does_not_run_it(team: Team) -> None:
    """The store's row is what decides: even when the job library's job was not cancelled
    (a worker had picked it up already), the worker finds the row cancelled."""
    team.write(environment("staging", team.out))
    id = team.enqueue("staging", "1.0.0")
    ws = team.ws()
    try:
        _, cancelled = ws.store.cancel_queued(id, by="someone")  # the row only: the job stays
    finally:
        ws.close()
    assert cancelled
    job = team.queued(id).job_id
    assert _job_status(team, job) == "todo"
    team.start_worker("a")
    wait_for("the worker to take the job and finish it", lambda: _job_status(team, job) is None)
    assert _deployed_versions(team) == []
    assert not (team.out / "live-staging").exists()
    assert team.queued(id).status == "cancelled"


def test_cancel_is_refused_once_a_worker_started_it_and_it_runs_to_its_end(team: Team) -> None:
    slow = sleep_step("slow", 4) + "      - {id: release, uses: target}\n"
    team.write(environment("staging", team.out, deploy=slow))
    id = team.enqueue("staging", "1.0.0")
    team.start_worker("a")
    dep = wait_for("the worker to start it", lambda: team.queued(id).deployment_id, timeout=60)
    refused = team.cli("cancel", f"q{id}")
    assert refused.returncode == 3, refused.stdout + refused.stderr
    worker = team.queued(id).worker
    assert (f"q{id} (deploy staging 1.0.0) cannot be cancelled: worker {worker} started it "
            f"first as deployment {dep}; it runs to its end") in refused.stderr
    [record] = team.wait_ended([id], timeout=60)
    assert (record.detail or "").startswith("succeeded")
    assert (team.out / "live-staging").read_text().strip() == "1.0.0"


def test_a_waiting_deployment_is_cancelled_before_policy_allows_it(team: Team) -> None:
    team.write(environment("staging", team.out))
    ws = team.ws()
    now = datetime.now(UTC)
    try:
        actor = ws.actor(requested="ci", env_user=None)
        calendar.add_freeze(ws, actor, env="staging", start=now - timedelta(minutes=1),
                            end=now + timedelta(seconds=6), reason="release party")
    finally:
        ws.close()
    until = now + timedelta(hours=1)
    id = team.enqueue("staging", "1.0.0", when_allowed=True, until=until)
    assert team.queued(id).status == "waiting"
    status = team.cli("status").stdout
    assert f"q{id} deploy staging 1.0.0: waiting — staging: deployment blocked by policy" in status
    assert f"; expires at {until:%Y-%m-%d %H:%M} UTC" in status
    team.start_worker("a")
    done = team.cli("--json", "cancel", f"q{id}")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert (shown["id"], shown["status"]) == (id, "cancelled")
    later = team.enqueue("staging", "1.0.1", when_allowed=True)  # waits for the same freeze
    [ran] = team.wait_ended([later], timeout=60)
    assert (ran.detail or "").startswith("succeeded")  # the freeze is over: it ran …
    assert _deployed_versions(team) == ["1.0.1"]  # … and the cancelled one never did


def test_cancel_says_what_it_takes(team: Team) -> None:
    team.write(environment("staging", team.out))
    for arg, message in (("qx", "give a deployment id (12) or a queued deployment (q12)"),
                         ("q999", "there is no queued deployment q999")):
        done = team.cli("cancel", arg)
        assert done.returncode == 2
        assert message in done.stderr


def test_a_cancel_racing_a_worker_s_claim_loses_to_the_claim_committed_first(team: Team) -> None:
    """The database decides: a claim holding the row makes the cancel wait, and the cancel
    then finds the row running (and the other way round a claim finds it cancelled)."""
    import threading

    team.write(environment("staging", team.out))
    id = team.enqueue("staging", "1.0.0")
    ws = team.ws()
    outcome: list[tuple[str, bool]] = []
    try:
        with psycopg.connect(jobs.conninfo(team.db_url)) as conn:  # a worker claiming it
            conn.execute("UPDATE queued_deployments SET status = 'running', worker = 'w1' "
                         "WHERE id = %s", (id,))
            racer = threading.Thread(target=lambda: outcome.append(
                (lambda r: (r[0].status, r[1]))(ws.store.cancel_queued(id, by="ci"))))
            racer.start()
            racer.join(timeout=1.0)
            assert racer.is_alive()  # blocked on the row the claim holds
            conn.commit()
        racer.join(timeout=30)
        assert outcome == [("running", False)]
        other = team.enqueue("staging", "1.0.1")
        assert ws.store.cancel_queued(other, by="ci")[1]
        assert ws.store.claim_queued(other, worker="w2") is None  # cancelled first: never runs
    finally:
        ws.close()


def test_a_deployment_held_by_a_terminal_deploy_is_queued_again_and_can_be_cancelled(team: Team) -> None:
    """A worker took the job but the environment is held (a deploy in a terminal): the
    queued deployment goes back to ``queued``, says why, and may still be cancelled."""
    import subprocess
    import sys

    slow = sleep_step("slow", 6) + "      - {id: release, uses: target}\n"
    team.write(environment("staging", team.out, deploy=slow))
    terminal = subprocess.Popen(
        [sys.executable, "-m", "releasegate", "-c", str(team.config), "deploy", "staging", "0.9.0", "--yes"],
        cwd=team.root, env=team.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        ws = team.ws()
        try:
            wait_for("the terminal deploy to hold staging", lambda: ws.store.get_lock("staging"))
        finally:
            ws.close()
        id = team.enqueue("staging", "1.0.0")
        team.start_worker("a")
        ws = team.ws()
        try:
            wait_for("the worker to find staging held", lambda: [
                e for e in ws.store.list_events(types=("queue.requeued",)) if e.data["queued"] == id])
        finally:
            ws.close()
        record = team.queued(id)
        assert (record.status, record.worker) == ("queued", None)
        assert "staging" in (record.waiting or "")
        done = team.cli("cancel", f"q{id}")
        assert done.returncode == 0, done.stderr
        assert terminal.wait(timeout=60) == 0
    finally:
        if terminal.poll() is None:
            terminal.kill()
    job = team.queued(id).job_id
    wait_for("the job to be over", lambda: _job_status(team, job) in (None, "cancelled"))
    assert _deployed_versions(team) == ["0.9.0"]
    assert (team.out / "live-staging").read_text().strip() == "0.9.0"
