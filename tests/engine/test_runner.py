"""The engine drives phases, records every attempt, and rolls back migration-aware."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import pytest

from releasegate.engine.api import Engine
from releasegate.errors import LockedError
from releasegate.store.records import DeploymentRecord

from .conftest import EngineFactory, make_config
from .fakes import FakeRestore


def _step(id: str, log: Path, **kw: object) -> dict[str, object]:
    opts = {"log": str(log)}
    for key in ("fail_times", "sleep"):
        if key in kw:
            opts[key] = kw.pop(key)
    return {"id": id, "uses": kw.pop("uses", "fake"), "with": opts, **kw}


def _deploy(engine, env: str, version: str, kind: str = "normal"):  # type: ignore[no-untyped-def]
    return asyncio.run(engine.deploy(engine.plan(env, version, kind)))


def test_successful_deploy_records_every_step_and_makes_the_version_live(
    tmp_path: Path, make_engine: EngineFactory, log: Path, live_file: Path
) -> None:
    config = make_config(
        tmp_path,
        gates=[_step("tests", log), _step("lint", log)],
        deploy=[_step("backup-ish", log), {"id": "release", "uses": "target"}, _step("health", log)],
    )
    engine, reporter = make_engine(config)
    outcome = _deploy(engine, "staging", "1.0.0")
    assert outcome.status == "succeeded"
    assert live_file.read_text() == "1.0.0"
    assert engine.store.live_version("staging") == "1.0.0"
    runs = engine.store.list_step_runs(outcome.deployment_id)
    assert [(r.phase, r.step_id, r.status) for r in runs if r.phase == "deploy"] == [
        ("deploy", "backup-ish", "succeeded"),
        ("deploy", "release", "succeeded"),
        ("deploy", "health", "succeeded"),
    ]
    assert {r.step_id for r in runs if r.phase == "gates"} == {"tests", "lint"}
    assert "deployment.finished" in reporter.types()
    assert engine.store.get_lock("staging") is None  # released
    assert engine.store.verify_chain().ok


def test_gates_run_concurrently(tmp_path: Path, make_engine: EngineFactory, log: Path) -> None:
    gates = [_step(f"g{i}", log, sleep=0.3) for i in range(6)]
    engine, _ = make_engine(make_config(tmp_path, gates=gates, concurrency=6))
    outcome = _deploy(engine, "staging", "1.0.0")
    runs = [r for r in engine.store.list_step_runs(outcome.deployment_id) if r.phase == "gates"]
    latest_start = max(r.started_at for r in runs)
    earliest_end = min(r.finished_at for r in runs if r.finished_at)
    assert latest_start < earliest_end  # all six were running at the same moment


def test_concurrency_limit_is_respected(tmp_path: Path, make_engine: EngineFactory, log: Path) -> None:
    gates = [_step(f"g{i}", log, sleep=0.1) for i in range(4)]
    engine, _ = make_engine(make_config(tmp_path, gates=gates, concurrency=1))
    outcome = _deploy(engine, "staging", "1.0.0")
    runs = sorted(
        (r for r in engine.store.list_step_runs(outcome.deployment_id) if r.phase == "gates"),
        key=lambda r: r.started_at,
    )
    for before, after in itertools.pairwise(runs):
        assert before.finished_at is not None
        assert before.finished_at <= after.started_at


def test_failed_gate_stops_before_anything_is_deployed(
    tmp_path: Path, make_engine: EngineFactory, log: Path, live_file: Path
) -> None:
    config = make_config(
        tmp_path,
        gates=[_step("tests", log, fail_times=-1), _step("after", log, needs=["tests"])],
        deploy=[{"id": "release", "uses": "target"}],
    )
    engine, _ = make_engine(config)
    outcome = _deploy(engine, "staging", "1.0.0")
    assert outcome.status == "failed"
    assert outcome.detail == "gate tests failed: failed on attempt 1"
    assert not live_file.exists()
    statuses = {r.step_id: r.status for r in engine.store.list_step_runs(outcome.deployment_id)}
    assert statuses == {"tests": "failed", "after": "skipped"}


def test_retries_with_backoff_until_success(tmp_path: Path, make_engine: EngineFactory, log: Path) -> None:
    config = make_config(
        tmp_path, gates=[_step("flaky", log, fail_times=2, retries=2, retry_delay="10ms")]
    )
    engine, reporter = make_engine(config)
    outcome = _deploy(engine, "staging", "1.0.0")
    assert outcome.status == "succeeded"
    attempts = [(r.attempt, r.status) for r in engine.store.list_step_runs(outcome.deployment_id)]
    assert attempts == [(1, "failed"), (2, "failed"), (3, "succeeded")]
    assert reporter.types().count("step.retrying") == 2


def test_timeout_fails_the_step(tmp_path: Path, make_engine: EngineFactory, log: Path) -> None:
    config = make_config(tmp_path, gates=[_step("hang", log, sleep=30, timeout="200ms")])
    engine, _ = make_engine(config)
    outcome = _deploy(engine, "staging", "1.0.0")
    assert outcome.status == "failed"
    [run] = engine.store.list_step_runs(outcome.deployment_id)
    assert (run.status, run.summary) == ("timed_out", "timed out after 0.2s")


def test_warn_does_not_stop(tmp_path: Path, make_engine: EngineFactory, log: Path) -> None:
    config = make_config(
        tmp_path,
        gates=[_step("advice", log, fail_times=-1, on_failure="warn")],
        deploy=[{"id": "release", "uses": "target"}],
    )
    engine, _ = make_engine(config)
    outcome = _deploy(engine, "staging", "1.0.0")
    assert outcome.status == "succeeded"
    statuses = {r.step_id: r.status for r in engine.store.list_step_runs(outcome.deployment_id)}
    assert statuses["advice"] == "warned"


def test_if_condition_skips_a_step(tmp_path: Path, make_engine: EngineFactory, log: Path) -> None:
    config = make_config(
        tmp_path, gates=[_step("perf", log, **{"if": "kind == 'major'"}), _step("unit", log)]
    )
    engine, _ = make_engine(config)
    outcome = _deploy(engine, "staging", "1.0.0")
    statuses = {r.step_id: r.status for r in engine.store.list_step_runs(outcome.deployment_id)}
    assert statuses == {"perf": "skipped", "unit": "succeeded"}
    outcome = _deploy(engine, "staging", "2.0.0", kind="major")
    statuses = {r.step_id: r.status for r in engine.store.list_step_runs(outcome.deployment_id)}
    assert statuses == {"perf": "succeeded", "unit": "succeeded"}


@pytest.mark.parametrize(
    ("mode", "expected_log"),
    [("reversible", ["up", "down"]), ("expand", ["up", "kept"]), ("irreversible", ["up"])],
)
def test_failed_health_check_rolls_back_migration_aware(
    tmp_path: Path, make_engine: EngineFactory, log: Path, live_file: Path, mode: str, expected_log: list[str]
) -> None:
    mig_log = tmp_path / "migrate.log"
    FakeRestore.log.clear()
    config = make_config(
        tmp_path,
        deploy=[
            {"id": "backup", "uses": "backup", "with": {"log": str(log), "database": "appdb"}},
            {"id": "migrate", "uses": "fake-migrate", "with": {"log": str(mig_log), "mode": mode}},
            {"id": "release", "uses": "target"},
            _step("health", log, fail_times=-1, on_failure="rollback"),
        ],
    )
    engine, reporter = make_engine(config)
    good = make_config(tmp_path, deploy=[{"id": "release", "uses": "target"}])
    good_engine, _ = make_engine(good)
    assert _deploy(good_engine, "staging", "1.0.0").status == "succeeded"

    outcome = _deploy(engine, "staging", "1.1.0")
    assert outcome.status == "rolled_back"
    assert outcome.detail == "deploy step health failed: failed on attempt 1"
    assert live_file.read_text() == "1.0.0"  # the target swapped back
    assert mig_log.read_text().split() == expected_log
    if mode == "irreversible":
        [backup] = engine.store.list_backups(deployment_id=outcome.deployment_id)
        assert FakeRestore.log == [f"restore {backup.location} into appdb"]
    else:
        assert FakeRestore.log == []
    assert engine.store.live_version("staging") == "1.0.0"
    assert "rollback.finished" in reporter.types()


def test_manual_rollback_goes_to_previous_successful_version(
    tmp_path: Path, make_engine: EngineFactory, log: Path, live_file: Path
) -> None:
    mig_log = tmp_path / "migrate.log"
    config = make_config(
        tmp_path,
        deploy=[
            {"id": "migrate", "uses": "fake-migrate", "with": {"log": str(mig_log)}},
            {"id": "release", "uses": "target"},
        ],
    )
    engine, _ = make_engine(config)
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        assert _deploy(engine, "staging", version).status == "succeeded"
    preview = engine.rollback_preview("staging")
    assert (preview.live_version, preview.to_version) == ("1.2.0", "1.1.0")
    assert preview.actions == ("release: swap back to 1.1.0", "migrate: run down")
    outcome = asyncio.run(engine.rollback("staging"))
    assert outcome.status == "succeeded"
    assert live_file.read_text() == "1.1.0"
    assert mig_log.read_text().split()[-1] == "down"
    assert engine.store.live_version("staging") == "1.1.0"
    dep = engine.store.get_deployment(outcome.deployment_id)
    assert dep is not None
    assert dep.kind == "rollback"
    assert engine.rollback_preview("staging").estimate_s is not None


def test_second_deploy_to_a_locked_environment_is_refused(
    tmp_path: Path, make_engine: EngineFactory, log: Path
) -> None:
    config = make_config(tmp_path, gates=[_step("slow", log, sleep=1.0)])
    engine, _ = make_engine(config, user="ci-bot")
    other, _ = make_engine(config, user="bob")

    async def race() -> tuple[object, BaseException | None]:
        first = asyncio.ensure_future(engine.deploy(engine.plan("staging", "1.0.0")))
        await asyncio.sleep(0.3)
        error: BaseException | None = None
        try:
            await other.deploy(other.plan("staging", "1.1.0"))
        except LockedError as exc:
            error = exc
        return await first, error

    first, error = asyncio.run(race())
    assert first.status == "succeeded"  # type: ignore[attr-defined]
    assert error is not None
    assert str(error).startswith("staging is locked by deployment 1 (")
    assert "ci-bot" in str(error)


def test_cancelling_mid_deploy_rolls_back_and_records_cancelled(
    tmp_path: Path, make_engine: EngineFactory, log: Path, live_file: Path
) -> None:
    config = make_config(
        tmp_path,
        deploy=[{"id": "release", "uses": "target"}, _step("soak-ish", log, sleep=30)],
    )
    engine, _ = make_engine(config)
    first, _ = make_engine(make_config(tmp_path, deploy=[{"id": "release", "uses": "target"}]))
    assert _deploy(first, "staging", "0.9.0").status == "succeeded"

    async def run_and_cancel() -> None:
        task = asyncio.ensure_future(engine.deploy(engine.plan("staging", "1.0.0")))
        # cancel once the soak step has started (a busy machine may take a while to get there)
        deadline = asyncio.get_running_loop().time() + 20
        while not (log.exists() and "start 1.0.0" in log.read_text()):
            assert asyncio.get_running_loop().time() < deadline, "the soak step never started"
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run_and_cancel())
    dep = engine.store.list_deployments(environment="staging")[0]
    assert live_file.read_text() == "0.9.0"
    assert dep.status == "cancelled"
    assert dep.detail == "cancelled by the user; rolled back"
    statuses = {r.step_id: r.status for r in engine.store.list_step_runs(dep.id) if r.phase == "deploy"}
    assert statuses == {"release": "succeeded", "soak-ish": "cancelled"}
    assert engine.store.get_lock("staging") is None


def _running_elsewhere(engine: Engine) -> DeploymentRecord:
    """A deployment of 1.0.0 to staging, recorded as running by a process on another host
    whose lease is about to run out — what a kill -9 leaves behind."""
    plan = engine.plan("staging", "1.0.0")
    dep = engine.store.create_deployment(
        environment="staging", version="1.0.0", kind="normal", user="alice", plan=plan.to_json()
    )
    engine.store.acquire_lock("staging", deployment_id=dep.id, holder="alice@nohost:1", ttl_s=0.01)
    engine.store.set_deployment_status(dep.id, "running")
    return dep


def test_resume_continues_after_an_interrupted_post_step(
    tmp_path: Path, make_engine: EngineFactory, log: Path, live_file: Path
) -> None:
    config = make_config(
        tmp_path,
        deploy=[{"id": "release", "uses": "target"}],
        post=[_step("announce", log)],
    )
    engine, _ = make_engine(config)
    # a process that died after the release and in the middle of the post step
    dep = _running_elsewhere(engine)
    run = engine.store.start_step(dep.id, step_id="release", phase="deploy", attempt=1)
    live_file.write_text("1.0.0")
    engine.store.finish_step(run.id, status="succeeded", summary="1.0.0 live")
    engine.store.start_step(dep.id, step_id="announce", phase="post", attempt=1)

    time.sleep(0.05)  # the dead process's lease runs out
    outcome = asyncio.run(engine.resume())
    assert outcome.status == "succeeded"
    runs = [(r.step_id, r.phase, r.status) for r in engine.store.list_step_runs(dep.id)]
    assert runs == [
        ("release", "deploy", "succeeded"),
        ("announce", "post", "cancelled"),
        ("announce", "post", "succeeded"),
    ]
    assert engine.store.verify_chain().ok


def test_resume_rolls_back_a_deploy_phase_interrupted_midway(
    tmp_path: Path, make_engine: EngineFactory, log: Path, live_file: Path
) -> None:
    mig_log = tmp_path / "migrate.log"
    config = make_config(
        tmp_path,
        deploy=[
            {"id": "migrate", "uses": "fake-migrate", "with": {"log": str(mig_log)}},
            {"id": "release", "uses": "target"},
        ],
    )
    engine, _ = make_engine(config)
    dep = _running_elsewhere(engine)
    run = engine.store.start_step(dep.id, step_id="migrate", phase="deploy", attempt=1)
    mig_log.write_text("up\n")
    engine.store.finish_step(run.id, status="succeeded", summary="migrated")

    time.sleep(0.05)  # the dead process's lease runs out
    outcome = asyncio.run(engine.resume(dep.id))
    assert outcome.status == "rolled_back"
    assert mig_log.read_text().split() == ["up", "down"]
    assert not live_file.exists()


def test_resume_refuses_a_finished_deployment(tmp_path: Path, make_engine: EngineFactory, log: Path) -> None:
    from releasegate.errors import UsageError

    engine, _ = make_engine(make_config(tmp_path, gates=[_step("t", log)]))
    outcome = _deploy(engine, "staging", "1.0.0")
    with pytest.raises(UsageError, match=f"deployment {outcome.deployment_id} has already finished"):
        asyncio.run(engine.resume(outcome.deployment_id))


def test_a_first_deploy_that_fails_cannot_swap_back_and_says_so(
    tmp_path: Path, make_engine: EngineFactory, log: Path
) -> None:
    config = make_config(
        tmp_path,
        deploy=[{"id": "release", "uses": "target"}, _step("health", log, fail_times=-1, on_failure="rollback")],
    )
    engine, _ = make_engine(config)
    outcome = _deploy(engine, "staging", "1.0.0")
    assert outcome.status == "rollback_failed"
    runs = {(r.step_id, r.phase): r for r in engine.store.list_step_runs(outcome.deployment_id)}
    assert runs[("release", "deploy:undo")].summary == "no previous version to go back to"


def test_builtin_registry_is_lazy_and_names_match() -> None:
    import subprocess
    import sys

    from releasegate.drivers.api import load_registry
    from releasegate.drivers.builtin import BUILTINS

    probe = "from releasegate.drivers.api import load_registry; import sys; load_registry(); " \
        "print(any(m.startswith('releasegate.drivers.checks.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # building the registry imports no driver
    registry = load_registry()
    for kind, name, _module, _cls in BUILTINS:
        assert registry.get(kind, name).name == name


def test_after_a_manual_rollback_the_rolled_back_version_is_not_stable(
    tmp_path: Path, make_engine: EngineFactory, log: Path, live_file: Path
) -> None:
    config = make_config(tmp_path, deploy=[{"id": "release", "uses": "target"}])
    engine, _ = make_engine(config)
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        assert _deploy(engine, "staging", version).status == "succeeded"
    assert asyncio.run(engine.rollback("staging")).status == "succeeded"  # 1.2.0 → 1.1.0
    preview = engine.rollback_preview("staging")
    # live is 1.1.0 (brought back by the rollback); further back is 1.0.0, never 1.2.0
    assert (preview.live_version, preview.to_version) == ("1.1.0", "1.0.0")
    assert preview.actions == ("release: swap back to 1.0.0",)
    assert asyncio.run(engine.rollback("staging")).status == "succeeded"
    assert live_file.read_text() == "1.0.0"


def test_emergency_caps_verification_where_it_feeds_production(tmp_path: Path, make_engine: EngineFactory) -> None:
    from releasegate.config.models import Config

    config = Config.model_validate({
        "project": "t",
        "emergency": {"staging_verify_max": "15m", "roles": ["on-call"]},
        "environments": {
            "staging": {"verify": [{"stage": "short", "for": "10m"}, {"stage": "long", "for": "1h"}]},
            "production": {"promote_from": "staging", "verify": [{"stage": "long", "for": "2h"}]},
        },
    })
    engine, _ = make_engine(config)
    normal = engine.plan("staging", "1.2.1", "hotfix")
    assert [(v.stage, v.for_s) for v in normal.verify] == [("short", 600), ("long", 3600)]
    fast = engine.plan("staging", "1.2.1", "hotfix", emergency=True)
    assert [(v.stage, v.for_s) for v in fast.verify] == [("short", 600), ("long", 300)]
    assert "emergency: verification here is capped at 15m in all" in fast.notes
    prod = engine.plan("production", "1.2.1", "hotfix", emergency=True)
    assert [(v.stage, v.for_s) for v in prod.verify] == [("long", 7200)]  # production watches longer


def _with_confirm(config_dict: dict[str, object]) -> object:
    from releasegate.config.models import Config

    return Config.model_validate(config_dict)


def test_required_confirmations_hold_the_deployment_until_signed(
    tmp_path: Path, make_engine: EngineFactory, log: Path, live_file: Path
) -> None:
    import threading
    import time

    from releasegate.drivers.checks.confirm import Confirm
    from releasegate.store.api import open_store

    config = _with_confirm({
        "project": "t",
        "confirmations": [
            {"id": "team-assembled", "text": "Team assembled", "by": ["devops"], "environments": ["staging"], "wait": "10s"},
            {"id": "runbooks", "text": "Runbooks updated", "phase": "post"},
            {"id": "hotfix-branch", "text": "Hotfix branch", "kinds": ["hotfix"]},
        ],
        "environments": {"staging": {
            "target": {"uses": "fake-target", "with": {"file": str(live_file)}},
            "gates": [_step("unit", log)],
            "deploy": [{"id": "release", "uses": "target"}],
        }},
    })
    engine, reporter = make_engine(config)
    engine.registry.register("step", Confirm)  # type: ignore[arg-type]
    plan = engine.plan("staging", "1.0.0")
    assert [s.id for s in plan.gates] == ["unit", "sign.team-assembled"]  # post and hotfix-only: not waited for
    assert [s.id for s in engine.plan("staging", "1.0.0", signatures=False).gates] == ["unit"]

    def sign_when_asked() -> None:
        other = open_store(f"sqlite:///{tmp_path / 'state.db'}")
        for _ in range(200):
            deps = other.list_deployments(limit=1)
            if deps and any(r.step_id == "sign.team-assembled" for r in other.list_step_runs(deps[0].id)):
                time.sleep(0.3)
                other.add_confirmation(deployment_id=deps[0].id, item="team-assembled", user="dave", note="all here")
                return
            time.sleep(0.05)

    signer = threading.Thread(target=sign_when_asked)
    signer.start()
    outcome = asyncio.run(engine.deploy(plan))
    signer.join()
    assert outcome.status == "succeeded"
    runs = {r.step_id: r for r in engine.store.list_step_runs(outcome.deployment_id)}
    assert runs["sign.team-assembled"].summary == "team-assembled signed by dave"
    assert live_file.read_text() == "1.0.0"
    waiting = [d for t, d in reporter.events if t == "step.output" and d.get("step") == "sign.team-assembled"]
    assert waiting
    assert f"releasegate confirm {outcome.deployment_id} team-assembled" in str(waiting[0]["line"])


def test_an_unsigned_confirmation_fails_the_gates_after_its_wait(
    tmp_path: Path, make_engine: EngineFactory, log: Path, live_file: Path
) -> None:
    from releasegate.drivers.checks.confirm import Confirm

    config = _with_confirm({
        "project": "t",
        "confirmations": [{"id": "review", "text": "Code review", "by": ["tech-lead"], "wait": "1s"}],
        "environments": {"staging": {
            "target": {"uses": "fake-target", "with": {"file": str(live_file)}},
            "deploy": [{"id": "release", "uses": "target"}],
        }},
    })
    engine, _ = make_engine(config)
    engine.registry.register("step", Confirm)  # type: ignore[arg-type]
    outcome = _deploy(engine, "staging", "1.0.0")
    assert outcome.status == "failed"
    assert outcome.detail == "gate sign.review failed: review was not signed within 1s (waiting for tech-lead)"
    assert not live_file.exists()


def test_the_verify_phase_runs_the_stages_as_the_emergency_plan_caps_them(
    tmp_path: Path, make_engine: EngineFactory
) -> None:
    from releasegate.config.models import Config
    from releasegate.engine.verify_phase import planned_stages

    config = Config.model_validate({
        "project": "t",
        "emergency": {"staging_verify_max": "15m", "roles": ["on-call"]},
        "environments": {
            "staging": {"verify": [{"stage": "short", "for": "10m", "every": "1m"},
                                   {"stage": "long", "for": "1h", "every": "10m"}]},
            "production": {"promote_from": "staging"},
        },
    })
    engine, _ = make_engine(config)
    fast = engine.runtime(engine.plan("staging", "1.2.1", "hotfix", emergency=True), 0)
    stages = planned_stages(fast)
    assert [(s.stage, s.for_.total_seconds(), s.every.total_seconds()) for s in stages] == [
        ("short", 600, 60), ("long", 300, 600)  # the library cuts an interval to the stage
    ]
    normal = engine.runtime(engine.plan("staging", "1.2.1", "hotfix"), 0)
    assert [s.for_.total_seconds() for s in planned_stages(normal)] == [600, 3600]
