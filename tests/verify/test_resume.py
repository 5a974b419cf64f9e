"""Samples through the real store: recorded, read back, resumed from, used as a baseline."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from releasegate.store.api import Store, open_store
from releasegate.verify.api import Baseline, StageProgress, StageSample, run_stages
from verify.conftest import FakeClock, Scripts, good, stage


class Crash(Exception):
    """Stands for the deploy process being killed between two intervals."""


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'state.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    opened = open_store(url)
    yield opened
    opened.close()


def _recorder(store: Store, deployment_id: int):  # type: ignore[no-untyped-def]
    def record(sample: StageSample) -> None:
        store.add_sample(deployment_id=deployment_id, stage=sample.stage, at=sample.at_datetime, values=sample.to_record())

    return record


def test_a_killed_verification_resumes_with_the_intervals_it_has_left(store: Store, clock: FakeClock) -> None:
    d = store.create_deployment(environment="staging", version="1.2.0", kind="normal", user="ana", plan={})

    def crash_after_three(p: StageProgress) -> None:
        if p.done == 3:
            raise Crash

    first = Scripts(clock)
    first.add("probe", [good()])
    with pytest.raises(Crash):
        asyncio.run(run_stages([stage(check={"p95": "< 500ms"})], sources=first, baseline=None, clock=clock,
                               on_sample=_recorder(store, d.id), on_progress=crash_after_three))  # fmt: skip
    assert first.scripts["probe"].closed  # the load stopped with the process's last breath

    recorded = [StageSample.from_record(r) for r in store.list_samples(d.id)]
    assert [(s.stage, s.source, s.interval, s.values["p95"]) for s in recorded] == [
        ("immediate", "probe", i, 90.0) for i in range(3)
    ]
    second = Scripts(clock)
    second.add("probe", [good()])
    result = asyncio.run(run_stages([stage(check={"p95": "< 500ms"})], sources=second, baseline=None,
                                    clock=clock, resume=recorded, on_sample=_recorder(store, d.id)))  # fmt: skip
    assert result.verdict == "pass"
    assert result.stages[0].intervals == 10
    assert second.scripts["probe"].calls == 7
    assert len(store.list_samples(d.id, stage="immediate")) == 10


def test_a_decision_the_recorded_samples_reach_is_taken_without_measuring_again(store: Store, clock: FakeClock) -> None:
    d = store.create_deployment(environment="staging", version="1.2.1", kind="normal", user="ana", plan={})
    record = _recorder(store, d.id)
    for i, rate in enumerate([0.0, 30.0, 40.0]):
        record(StageSample("immediate", "probe", i, clock.time() - 10 + i, 1.0, good(error_rate=rate)))
    recorded = [StageSample.from_record(r) for r in store.list_samples(d.id)]
    scripts = Scripts(clock)
    script = scripts.add("probe", [good()])
    result = asyncio.run(run_stages([stage(check={"error_rate": "< 1%"}, failures_allowed=1)],
                                    sources=scripts, baseline=None, clock=clock, resume=recorded))  # fmt: skip
    assert (result.verdict, result.action) == ("fail", "rollback")
    assert script.calls == 0
    assert result.detection_s == pytest.approx(10.0)  # wall time since the first bad interval began


def test_a_finished_stage_is_replayed_and_the_next_one_runs(store: Store, clock: FakeClock) -> None:
    d = store.create_deployment(environment="staging", version="1.2.0", kind="normal", user="ana", plan={})
    record = _recorder(store, d.id)
    for i in range(3):
        record(StageSample("immediate", "probe", i, clock.time() + i, 1.0, good()))
    recorded = [StageSample.from_record(r) for r in store.list_samples(d.id)]
    scripts = Scripts(clock)
    script = scripts.add("probe", [good()])
    stages = [stage(**{"for": "3s"}, check={"p95": "< 500ms"}), stage(stage="later", **{"for": "2s"}, check={"p95": "< 500ms"})]
    result = asyncio.run(run_stages(stages, sources=scripts, baseline=None, clock=clock, resume=recorded))
    assert [(s.stage, s.intervals) for s in result.stages] == [("immediate", 3), ("later", 2)]
    assert script.calls == 2


def test_the_baseline_of_a_release_comes_from_its_recorded_samples(store: Store, clock: FakeClock) -> None:
    d = store.create_deployment(environment="production", version="1.2.0", kind="normal", user="ana", plan={})
    record = _recorder(store, d.id)
    for i, p95 in enumerate([80.0, 100.0, 120.0]):
        record(StageSample("immediate", "probe", i, clock.time() + i, 1.0, good(p95=p95)))
    record(StageSample("immediate", "probe", 3, clock.time() + 3, 1.0, {}, error="refused"))
    baseline = Baseline.from_records(store.list_samples(d.id), version="1.2.0", deployment_id=d.id)
    figure = baseline.figure("p95")
    assert figure is not None
    assert (figure.value, figure.count, figure.intervals) == (100.0, 300.0, 3)
    assert figure.label == f"1.2.0 (deployment {d.id})"
    assert baseline.to_json()["label"] == f"1.2.0 (deployment {d.id})"
