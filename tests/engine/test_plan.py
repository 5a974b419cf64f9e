"""compile_plan: ordering, needs across phases, and every driver problem before anything runs."""

from __future__ import annotations

from typing import Any

import pytest

from releasegate.config.models import Config
from releasegate.config.release import Release
from releasegate.engine.plan import compile_plan
from releasegate.errors import ConfigError

from .fakes import fake_registry

RELEASE = Release(environment="staging", version="1.0.0")


def _config(**env: Any) -> Config:
    base: dict[str, Any] = {"target": {"uses": "fake-target", "with": {"file": "live.txt"}}}
    base.update(env)
    return Config.model_validate({"project": "t", "environments": {"staging": base}})


def _step(id: str, **more: Any) -> dict[str, Any]:
    return {"id": id, "uses": "fake", "with": {"log": "x.log"}, **more}


def test_deploy_steps_run_in_written_order_and_may_need_gates() -> None:
    config = _config(
        gates=[_step("lint"), _step("test")],
        deploy=[_step("migrate", needs=["test"]), {"id": "release", "uses": "target"}],
        post=[_step("tag")],
    )
    plan = compile_plan(config, "staging", RELEASE, fake_registry())
    assert [(s.id, s.needs) for s in plan.all_steps()] == [
        ("lint", ()),
        ("test", ()),
        ("migrate", ("test",)),
        ("release", ("migrate",)),
        ("tag", ()),
    ]
    assert plan.step("release").undo == "swap back to the previous version"
    with pytest.raises(KeyError):
        plan.step("nothing")


def test_every_unknown_driver_and_bad_option_is_reported_before_anything_runs() -> None:
    config = _config(
        gates=[{"id": "lint", "uses": "lnt"}],
        deploy=[
            {"id": "migrate", "uses": "fake", "with": {"lgo": "x.log"}},
            {"id": "release", "uses": "target"},
        ],
        target={"uses": "fake-target", "with": {"file": 3}},
    )
    with pytest.raises(ConfigError) as caught:
        compile_plan(config, "staging", RELEASE, fake_registry())
    assert [str(p) for p in caught.value.problems] == [
        "environments.staging.gates[0].uses: unknown step driver 'lnt'",
        "environments.staging.deploy[0].with.log: Field required",
        "environments.staging.deploy[0].with.lgo: Extra inputs are not permitted",
        "environments.staging.target.with.file: Input should be a valid string",
    ]


def test_a_need_outside_the_plan_and_a_missing_target_are_refused() -> None:
    config = _config(deploy=[_step("migrate", needs=["tag"])], post=[_step("tag")])
    with pytest.raises(ConfigError) as caught:
        compile_plan(config, "staging", RELEASE, fake_registry())
    assert str(caught.value) == "step 'migrate' needs 'tag', which is not in this plan"
    config = _config(target=None, deploy=[{"id": "release", "uses": "target"}])
    with pytest.raises(ConfigError) as caught:
        compile_plan(config, "staging", RELEASE, fake_registry())
    assert str(caught.value) == (
        "environments.staging: a deploy step uses the target, but no target is configured"
    )


def test_a_plan_of_ten_thousand_chained_steps() -> None:
    count = 10_000
    gates = [_step(f"g{i}", needs=[f"g{i - 1}"] if i else []) for i in range(count)]
    deploy = [_step(f"d{i}", needs=[f"g{count - 1}"]) for i in range(count)]
    plan = compile_plan(_config(gates=gates, deploy=deploy), "staging", RELEASE, fake_registry())
    assert len(plan.gates) == len(plan.deploy) == count
    assert plan.step(f"d{count - 1}").needs == (f"g{count - 1}",)
