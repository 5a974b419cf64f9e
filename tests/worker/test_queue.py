"""Queued deployments run by real worker processes on a real PostgreSQL store."""

from __future__ import annotations

import json
import signal
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from tests.worker.conftest import GIT, Team, environment, sleep_step, wait_for

from releasegate.errors import LockedError, UsageError
from releasegate.service import calendar, records

pytestmark = pytest.mark.postgres


def _mark_step(team: Team) -> str:
    return (f'      - {{id: mark, uses: command, with: {{run: [sh, -c, "cat marker.txt >> '
            f'{team.out / "marks"}"]}}}}\n      - {{id: release, uses: target}}\n')


def test_deploy_queue_wait_runs_the_queued_commit_and_exits_with_its_code(team: Team) -> None:
    (team.root / "marker.txt").write_text("committed\n")
    commit = team.write(environment("staging", team.out, deploy=_mark_step(team)))
    (team.root / "marker.txt").write_text("not committed\n")  # the worker runs the commit
    team.start_worker("a")
    done = team.cli("deploy", "staging", "1.0.0", "--queue", "--wait")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "queued" in done.stdout.splitlines()[0]
    assert "succeeded" in done.stdout
    assert (team.out / "marks").read_text() == "committed\n"
    assert (team.out / "live-staging").read_text().strip() == "1.0.0"
    shown = json.loads(team.cli("--json", "workers").stdout)
    assert shown["workers"]
    assert shown["queued"] == []
    ws = team.ws()
    try:
        dep = ws.store.list_deployments(limit=1)[0]
        assert (dep.status, dep.user, dep.commit) == ("succeeded", team.queued(1).user, commit)
    finally:
        ws.close()


def test_a_failed_queued_deployment_gives_its_exit_code_to_wait(team: Team) -> None:
    step = '      - {id: release, uses: target}\n      - {id: boom, uses: command, on_failure: rollback, with: {run: ["false"]}}\n'
    team.write(environment("staging", team.out, deploy=step))
    team.start_worker("a")
    done = team.cli("deploy", "staging", "1.0.0", "--queue", "--wait")
    assert done.returncode == 1, done.stdout + done.stderr  # first deployment: nothing to roll back to
    assert "rollback_failed" in done.stdout


def test_an_identical_queued_deployment_is_refused_and_sqlite_is_refused(team: Team) -> None:
    team.write(environment("staging", team.out))
    first = team.enqueue("staging", "1.0.0")
    with pytest.raises(LockedError, match="identical deployment is already queued"):
        team.enqueue("staging", "1.0.0")
    assert team.enqueue("staging", "1.0.1") > first  # another version queues behind it
    done = subprocess.run(
        [*team.cli("--help").args[:3], "--db", str(team.out / "s.db"), "-c", str(team.config),
         "deploy", "staging", "1.0.0", "--queue"],
        cwd=team.root, capture_output=True, text=True, env=team.env(), check=False,
    )
    assert done.returncode == 2
    assert "needs the store on PostgreSQL" in done.stderr


def test_a_job_whose_commit_no_longer_exists_fails_with_the_reason(team: Team) -> None:
    team.write(environment("staging", team.out))
    (team.root / "extra.txt").write_text("x")
    gone = team.write(environment("staging", team.out))
    id = team.enqueue("staging", "1.0.0")
    subprocess.run([*GIT, "reset", "-q", "--hard", "HEAD~1"], cwd=team.root, check=True)
    subprocess.run(["git", "reflog", "expire", "--expire=now", "--all"], cwd=team.root, check=True)
    subprocess.run(["git", "gc", "-q", "--prune=now"], cwd=team.root, check=True)
    team.start_worker("a")
    [record] = team.wait_ended([id], timeout=60)
    assert record.status == "failed"
    assert f"commit {gone} no longer exists in {team.root}" in (record.detail or "")
    assert record.deployment_id is None


def test_kill_9_mid_deployment_another_worker_resumes_it(team: Team) -> None:
    slow = sleep_step("slow", 60) + "      - {id: release, uses: target}\n"
    team.write(environment("staging", team.out, deploy=slow))
    id = team.enqueue("staging", "1.0.0")
    first = team.start_worker("a", cache="host")
    wait_for("the slow step to start", lambda: team.queued(id).deployment_id, timeout=60)
    # (60 s: it is still running when the standby is up, however busy the machine)
    team.start_worker("b", cache="host")  # a standby: its start-up is not part of the takeover
    wait_for("the standby to register", lambda: len(json.loads(team.cli("--json", "workers").stdout)["workers"]) == 2)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    killed_at = datetime.now(UTC)
    [record] = team.wait_ended([id], timeout=team.lease_s + 60)
    ws = team.ws()
    try:
        resumed = [e for e in ws.store.list_events(deployment_id=record.deployment_id or 0)
                   if e.type == "deployment.resumed"]
    finally:
        ws.close()
    assert resumed
    took = (resumed[0].at - killed_at).total_seconds()
    assert took < team.lease_s + 10  # the bound: lease time + 10 s
    assert record.status == "done"
    ws = team.ws()
    try:
        dep = ws.store.get_deployment(record.deployment_id or 0)
        assert dep is not None
        # killed in the middle of the deploy phase: the engine's resume rolls it back
        assert dep.status in ("rolled_back", "rollback_failed", "succeeded"), dep
        types = [e.type for e in ws.store.list_events(deployment_id=dep.id)]
        assert "deployment.resumed" in types
        assert "resume.stopped_leftovers" in types  # the dead worker's step, stopped first
        assert ws.store.get_lock("staging") is None
        audit = records.audit_verify(ws, ws.actor(requested="ci", env_user=None))
        assert audit.ok, audit.problems
    finally:
        ws.close()


def test_sigterm_finishes_the_step_hands_back_and_another_worker_continues(team: Team) -> None:
    gates = sleep_step("g1", 5) + sleep_step("g2", 0.2, needs="g1") + sleep_step("g3", 0.2, needs="g2")
    team.write(environment("staging", team.out, gates=gates))
    id = team.enqueue("staging", "1.0.0")
    first = team.start_worker("a")
    # the step run, not the deployment row: a SIGTERM before g1 begins hands back no step
    wait_for("the first gate to start", lambda: team.started_and(
        id, lambda ws, dep: any(r.step_id == "g1" for r in ws.store.list_step_runs(dep))), timeout=60)
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=30) == 0
    ws = team.ws()
    try:
        dep_id = team.queued(id).deployment_id or 0
        runs = ws.store.list_step_runs(dep_id)
        assert [(r.step_id, r.status) for r in runs] == [("g1", "succeeded")]  # finished, not cut
        assert "deployment.handed_back" in [e.type for e in ws.store.list_events(deployment_id=dep_id)]
        team.start_worker("b")
        [record] = team.wait_ended([id], timeout=60)
        dep = ws.store.get_deployment(dep_id)
        assert dep is not None
        assert dep.status == "succeeded", dep
        ran = [(r.step_id, r.status) for r in ws.store.list_step_runs(dep_id)]
        assert ("g1", "succeeded") in ran
        assert ("release", "succeeded") in ran
        assert not [r for r in ran if r[1] == "cancelled"]
        assert record.status == "done"
    finally:
        ws.close()


def test_when_allowed_waits_for_the_freeze_to_end_then_starts_by_itself(team: Team) -> None:
    team.write(environment("staging", team.out))
    ws = team.ws()
    now = datetime.now(UTC)
    try:
        actor = ws.actor(requested="ci", env_user=None)
        calendar.add_freeze(ws, actor, env="staging", start=now - timedelta(minutes=1),
                            end=now + timedelta(seconds=8), reason="release party")
    finally:
        ws.close()
    waiting = team.enqueue("staging", "1.0.0", when_allowed=True)
    expiring = team.enqueue("staging", "1.0.1", when_allowed=True,
                            until=datetime.now(UTC) + timedelta(seconds=4))
    record = team.queued(waiting)
    assert record.status == "waiting"
    assert "freeze" in (record.waiting or "")
    shown = team.cli("workers")
    assert f"q{waiting} deploy staging 1.0.0: waiting" in shown.stdout
    status = team.cli("status")
    assert f"queued: q{waiting} deploy staging 1.0.0: waiting — staging: deployment blocked by policy" in status.stdout
    assert "freeze" in status.stdout
    team.start_worker("a")
    first, second = team.wait_ended([waiting, expiring], timeout=60)
    assert first.status == "done"
    assert (first.detail or "").startswith("succeeded")
    assert second.status == "expired"


def test_until_without_when_allowed_is_a_usage_error(team: Team) -> None:
    team.write(environment("staging", team.out))
    with pytest.raises(UsageError, match="--until needs --when-allowed"):
        team.enqueue("staging", "1.0.0", until=datetime.now(UTC) + timedelta(hours=1))


def test_team_mode_errors_say_what_is_wrong(team: Team, tmp_path_factory: pytest.TempPathFactory) -> None:
    team.write(environment("staging", team.out))
    sqlite = str(team.out / "state.db")
    for argv in (["--db", sqlite, "worker"], ["--db", sqlite, "workers"]):
        done = team.cli(*argv)
        assert done.returncode == 2, done.stderr
        assert "PostgreSQL" in done.stderr
    bad = team.cli("deploy", "staging", "1.0.0", "--when-allowed", "--until", "friday")
    assert bad.returncode == 2
    assert "--until 'friday': give an ISO time" in bad.stderr
    elsewhere = tmp_path_factory.mktemp("no-git")
    (elsewhere / "releasegate.yaml").write_text(team.config.read_text())
    done = team.cli("-c", str(elsewhere / "releasegate.yaml"), "deploy", "staging", "1.0.0", "--queue")
    assert done.returncode == 2
    assert "is not in a git repository" in done.stderr


def test_a_queued_rollback_and_a_queued_deployment_policy_refuses(team: Team) -> None:
    team.write(environment("staging", team.out))
    team.start_worker("a")
    for version in ("1.0.0", "1.0.1"):
        assert team.cli("deploy", "staging", version, "--queue", "--wait").returncode == 0
    back = team.cli("rollback", "staging", "--queue", "--wait")
    assert back.returncode == 0, back.stdout + back.stderr
    assert (team.out / "live-staging").read_text().strip() == "1.0.0"
    ws = team.ws()
    try:
        actor = ws.actor(requested="ci", env_user=None)
        now = datetime.now(UTC)
        calendar.add_freeze(ws, actor, env="staging", start=now - timedelta(minutes=1),
                            end=now + timedelta(hours=1), reason="quarter end")
    finally:
        ws.close()
    refused = team.cli("deploy", "staging", "1.0.2", "--queue", "--wait")
    assert refused.returncode == 3, refused.stdout + refused.stderr  # as a terminal deploy
    assert "freeze" in refused.stdout


def test_one_worker_runs_several_environments_at_once_and_one_at_a_time_in_each(team: Team) -> None:
    slow = sleep_step("slow", 1) + "      - {id: release, uses: target}\n"
    team.write("".join(environment(e, team.out, deploy=slow) for e in ("a", "b", "c")))
    team.stalled_after = 15  # not a takeover test: a starved machine must not fake a dead worker
    ids = [team.enqueue(env, v) for v in ("1.0.0", "1.0.1") for env in ("a", "b", "c")]
    team.start_worker("w", "--concurrency", "3")
    ended = team.wait_ended(ids, timeout=120)
    assert [(r.status, (r.detail or "").split(":")[0]) for r in ended] == [("done", "succeeded")] * 6
    ws = team.ws()
    try:
        deps = [ws.store.get_deployment(r.deployment_id or 0) for r in ended]
        spans = {env: sorted((d.created_at, d.finished_at) for d in deps if d and d.environment == env)
                 for env in ("a", "b", "c")}
        for env, ((_, first_end), (second_start, _)) in spans.items():
            assert first_end is not None
            assert second_start >= first_end, f"two at once in {env}"  # in order, one at a time
        firsts = [spans[env][0] for env in ("a", "b", "c")]
        assert max(s for s, _ in firsts) < min(e for _, e in firsts if e)  # the three at once
    finally:
        ws.close()
    for env in ("a", "b", "c"):
        assert (team.out / f"live-{env}").read_text().strip() == "1.0.1"


def test_a_verification_stage_survives_its_worker(team: Team) -> None:
    verify = ("    verify:\n      - {stage: extended, for: 20s, every: 1s, source: system, "
              'check: {host_memory: "< 100%"}}\n')
    team.write(environment("staging", team.out).replace("    deploy:\n", verify + "    deploy:\n"))
    id = team.enqueue("staging", "1.0.0")
    first = team.start_worker("a", cache="host")

    wait_for("the deployment to start", lambda: team.queued(id).deployment_id, timeout=60)
    team.start_worker("b", cache="host")  # a standby (started once a holds the job)
    wait_for("the verification stage to record an interval", lambda: team.started_and(
        id, lambda ws, dep: len(ws.store.list_samples(dep)) >= 2), timeout=60)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    [record] = team.wait_ended([id], timeout=60)
    ws = team.ws()
    try:
        dep = ws.store.get_deployment(record.deployment_id or 0)
        assert dep is not None
        assert dep.status == "succeeded", dep  # the stage went on where it stood
        types = [e.type for e in ws.store.list_events(deployment_id=dep.id)]
        assert "deployment.resumed" in types, types
        assert types.index("deployment.resumed") < types.index("verify.stage")
        assert len(ws.store.list_samples(dep.id)) >= 15  # the intervals before and after
    finally:
        ws.close()


@pytest.mark.parametrize("start", [
    "from releasegate.web.app import create_app; create_app(lambda: None)",
    "import releasegate.worker.run as r; r.jobs.ensure_schema = r.build = r.asyncio.run = "
    "lambda *a, **k: 0; r.run(r.Options(db_url='postgresql://nowhere/x'))",
])
def test_the_multi_threaded_processes_load_the_orm_before_their_threads(start: str) -> None:
    # a first import of the ORM in one thread while another binds a parameter raced
    # (sqlalchemy.orm.exc "partially initialized"): serve and the worker import it up front
    import sys

    code = f"import sys; {start}; print('sqlalchemy.orm' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1:] == ["True"], done.stderr
