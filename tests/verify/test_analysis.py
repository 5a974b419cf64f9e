"""Staged analysis: verdicts, reasons, limits, no data, errors, dry runs, triggers."""

from __future__ import annotations

import asyncio
import math

import pytest

from releasegate.drivers.api import Sample
from releasegate.errors import ConfigError, DriverError
from releasegate.verify.api import (
    Baseline,
    StageProgress,
    StageSample,
    VerificationResult,
    run_stages,
)
from verify.conftest import FakeClock, Scripts, good, stage


def run(scripts: Scripts, clock: FakeClock, stages: list, **kw: object) -> VerificationResult:  # type: ignore[type-arg]
    return asyncio.run(run_stages(stages, sources=scripts, clock=clock, **{"baseline": None, **kw}))  # type: ignore[arg-type]


def test_a_stage_within_its_conditions_passes_and_says_what_it_checked(scripts: Scripts, clock: FakeClock) -> None:
    scripts.add("probe", [good()])
    result = run(scripts, clock, [stage(check={"error_rate": "< 1%", "p95": "< 200ms"})])
    assert (result.verdict, result.action) == ("pass", "continue")
    assert result.stages[0].intervals == 10
    assert result.stages[0].reason == "2 metric(s) within their conditions for 10 interval(s)"
    assert result.stages[0].counts["p95"] == {"pass": 10}
    assert scripts.scripts["probe"].closed


def test_failures_beyond_failures_allowed_fail_the_stage_at_once_naming_metric_interval_value_threshold(
    scripts: Scripts, clock: FakeClock
) -> None:
    scripts.add("probe", [good(), good(), good(error_rate=3.5), good(), good(error_rate=7.0), good()])
    result = run(scripts, clock, [stage(check={"error_rate": "< 1%"}, failures_allowed=1)])
    assert (result.verdict, result.action) == ("fail", "rollback")
    assert result.stages[0].intervals == 5  # stopped at the second bad interval, not after 10
    decisive = result.decisive
    assert decisive is not None
    assert (decisive.metric, decisive.interval, decisive.value, decisive.threshold) == ("error_rate", 4, 7.0, 1.0)
    assert result.reason.startswith(
        "stage immediate failed: error_rate failed in 2 interval(s) (failures_allowed 1): "
        "stage immediate, interval 5 ("
    )
    assert result.reason.endswith("): error_rate 7% breaks < 1% (absolute)")
    assert result.detection_s == pytest.approx(3.0)  # from the start of interval 3


def test_on_fail_pause_asks_instead_of_rolling_back(scripts: Scripts, clock: FakeClock) -> None:
    scripts.add("probe", [good(p95=900.0)])
    result = run(scripts, clock, [stage(check={"p95": "< 500ms"}, on_fail="pause", confirm_by=["qa"])])
    assert (result.verdict, result.action, result.confirm_by) == ("fail", "pause", ("qa",))


@pytest.mark.parametrize(
    ("no_data", "verdict"), [("inconclusive", "inconclusive"), ("fail", "fail"), ("pass", "pass")]
)
def test_no_data_counts_as_configured_never_as_zero(scripts: Scripts, clock: FakeClock, no_data: str, verdict: str) -> None:
    values = good()
    del values["p95"]
    scripts.add("probe", [Sample(at=0, values=values, missing={"p95": "no series"})])
    result = run(scripts, clock, [stage(check={"p95": "< 500ms"}, no_data=no_data)])
    assert result.verdict == verdict
    if verdict != "pass":
        assert "p95: no data (no series); no_data: " + no_data in result.reason


def test_nan_from_a_source_is_no_data_not_a_pass(scripts: Scripts, clock: FakeClock) -> None:
    scripts.add("probe", [good(p95=math.nan)])
    result = run(scripts, clock, [stage(check={"p95": "< 500ms"})])
    assert result.verdict == "inconclusive"
    assert "p95: no data (the source answered nan)" in result.reason


def test_an_unreadable_source_is_inconclusive_after_error_limit_consecutive_intervals(scripts: Scripts, clock: FakeClock) -> None:
    down = DriverError("cannot reach prometheus at http://127.0.0.1:9: connection refused")
    scripts.add("probe", [good(), down, down, down, down, down, good()])
    result = run(scripts, clock, [stage(check={"p95": "< 500ms"})])
    assert (result.verdict, result.action) == ("inconclusive", "pause")
    assert result.stages[0].intervals == 6
    assert "probe unreadable for 5 consecutive intervals (error_limit 4)" in result.reason
    assert "connection refused" in result.reason


def test_errors_below_the_limit_between_good_readings_pass(scripts: Scripts, clock: FakeClock) -> None:
    down = DriverError("timeout")
    scripts.add("probe", [good(), down, down, good(), down, good()])
    result = run(scripts, clock, [stage(check={"p95": "< 500ms"})])
    assert result.verdict == "pass"
    assert result.stages[0].counts["p95"]["error"] == 3


def test_a_source_never_read_is_never_a_pass(scripts: Scripts, clock: FakeClock) -> None:
    scripts.add("probe", [DriverError("refused")])
    result = run(scripts, clock, [stage(**{"for": "3s"}, check={"p95": "< 500ms"})])
    assert result.verdict == "inconclusive"
    assert result.reason == "stage immediate inconclusive: p95 was never measured (3 error)"


def test_the_probe_behind_its_schedule_is_inconclusive_with_its_reason(scripts: Scripts, clock: FakeClock) -> None:
    behind = Sample(at=0, values=good(p95=900.0), caveat="this machine cannot sustain 5000 requests/s")
    scripts.add("probe", [behind])
    result = run(scripts, clock, [stage(check={"p95": "< 500ms"})])
    assert result.verdict == "inconclusive"  # not "fail": the service was not shown slow
    assert "p95 not judged: this machine cannot sustain 5000 requests/s" in result.reason


def test_inconclusive_limit_tolerates_that_many(scripts: Scripts, clock: FakeClock) -> None:
    blip = Sample(at=0, values={"requests": 100.0}, missing={"p95": "no response"})
    scripts.add("probe", [good(), blip, good(), blip, good()])
    result = run(scripts, clock, [stage(check={"p95": "< 500ms"}, inconclusive_limit=2)])
    assert result.verdict == "pass"


def test_dry_run_stage_records_a_failure_but_never_acts(scripts: Scripts, clock: FakeClock) -> None:
    scripts.add("probe", [good(error_rate=50.0)])
    result = run(scripts, clock, [stage(check={"error_rate": "< 1%"}, dry_run=True)],
                 rollback_when={"error_rate": "> 5%"})  # fmt: skip
    assert (result.verdict, result.action) == ("pass", "continue")
    assert result.stages[0].dry_run_verdict == "fail"
    assert result.stages[0].intervals == 10
    assert all(f.dry_run for f in result.stages[0].findings)


def test_a_dry_run_metric_does_not_act_while_the_others_do(scripts: Scripts, clock: FakeClock) -> None:
    scripts.add("probe", [good(p99=5000.0)])
    checks = {"error_rate": "< 1%", "p99": "< 1000ms"}
    result = run(scripts, clock, [stage(check=checks, per_metric={"p99": {"dry_run": True}})])
    assert result.verdict == "pass"
    assert result.stages[0].dry_run_verdict == "fail"


def test_a_rollback_trigger_decides_in_the_interval_it_holds(scripts: Scripts, clock: FakeClock) -> None:
    scripts.add("probe", [good(), good(error_rate=2.0), good(error_rate=12.0), good()])
    result = run(scripts, clock, [stage(check={"error_rate": "< 1%"}, failures_allowed=5)],
                 rollback_when={"error_rate": "> 5%"})  # fmt: skip
    assert (result.verdict, result.action) == ("fail", "rollback")
    assert result.trigger is not None
    assert result.trigger.interval == 2
    assert "rollback.when holds" in result.reason
    assert result.reason.endswith("): error_rate 12% hits > 5% (absolute)")
    assert result.detection_s == pytest.approx(2.0)  # first bad interval: the second


def test_relative_check_names_the_baseline_it_used(scripts: Scripts, clock: FakeClock) -> None:
    before = [StageSample("immediate", "probe", i, 100.0 + i, 1.0, good(p95=100.0)) for i in range(5)]
    baseline = Baseline.from_samples(before, version="1.2.0", deployment_id=7)
    scripts.add("probe", [good(p95=230.0)])
    result = run(scripts, clock, [stage(check={"p95": "< 2x baseline"})], baseline=baseline)
    assert result.verdict == "fail"
    assert result.baseline == "1.2.0 (deployment 7)"
    assert result.reason.endswith(
        "p95 230ms breaks < 2x baseline: threshold 200ms = 2 × 100ms, the p95 of 1.2.0 (deployment 7)"
    )
    assert result.decisive is not None
    assert result.decisive.baseline is not None
    assert result.decisive.baseline.count == 500  # 5 intervals × 100 requests


def test_relative_check_needs_min_samples_on_both_sides(scripts: Scripts, clock: FakeClock) -> None:
    small = Baseline.from_samples([StageSample("s", "probe", 0, 1.0, 1.0, good(requests=5.0))], version="1.2.0")
    scripts.add("probe", [good()])
    result = run(scripts, clock, [stage(check={"p95": "< 2x baseline"})], baseline=small)
    assert result.verdict == "inconclusive"
    assert "the baseline 1.2.0 has 5 observations (needs 20)" in result.reason
    big = Baseline.fixed({"p95": 100.0})
    scripts.add("probe", [good(requests=3.0)])
    result = run(scripts, clock, [stage(check={"p95": "< 2x baseline"})], baseline=big)
    assert "3 observations in the interval (needs 20)" in result.reason


def test_zero_error_baseline_does_not_hide_errors(scripts: Scripts, clock: FakeClock) -> None:
    clean = Baseline.from_samples([StageSample("s", "probe", i, 1.0, 1.0, good()) for i in range(3)], version="1.2.0")
    scripts.add("probe", [good(error_rate=0.4)])
    result = run(scripts, clock, [stage(check={"error_rate": "< 2x baseline"})], baseline=clean)
    assert result.verdict == "fail"
    assert result.reason.endswith(
        "error_rate 0.4% breaks < 2x baseline: the baseline 1.2.0 had 0%, so only the floor 0% is allowed"
    )
    scripts.add("probe", [good(error_rate=0.4)])
    floored = stage(check={"error_rate": "< 2x baseline"}, per_metric={"error_rate": {"floor": "0.5%"}})
    assert run(scripts, clock, [floored], baseline=clean).verdict == "pass"
    scripts.add("probe", [good()])
    assert run(scripts, clock, [stage(check={"error_rate": "< 2x baseline"})], baseline=clean).verdict == "pass"


def test_first_deployment_uses_absolute_thresholds_only_and_says_so(scripts: Scripts, clock: FakeClock) -> None:
    scripts.add("probe", [good(p95=400.0)])
    result = run(scripts, clock, [stage(check={"p95": "< 2x baseline", "error_rate": "< 1%"})])
    assert result.verdict == "pass"
    assert result.baseline is None
    assert result.notes == ("no baseline (the first verified release here): absolute thresholds only, relative checks are skipped",)
    assert result.stages[0].notes == ("p95 < 2x baseline skipped: no baseline (absolute thresholds only)",)
    scripts.add("probe", [good(error_rate=9.0)])
    assert run(scripts, clock, [stage(check={"p95": "< 2x baseline", "error_rate": "< 1%"})]).verdict == "fail"


def test_a_fixed_baseline_in_the_stage_is_used_and_named(scripts: Scripts, clock: FakeClock) -> None:
    scripts.add("probe", [good(p95=130.0)])
    result = run(scripts, clock, [stage(check={"p95": "< 1.2x baseline"}, baseline={"p95": "100ms"})])
    assert result.verdict == "fail"
    assert result.reason.endswith("threshold 120ms = 1.2 × 100ms, the p95 of fixed")


def test_stages_run_in_order_and_stop_at_the_first_decision(scripts: Scripts, clock: FakeClock) -> None:
    scripts.add("probe", [good()] * 3 + [good(error_rate=40.0)])
    first = stage(**{"for": "3s"}, check={"error_rate": "< 1%"})
    second = stage(stage="short-term", **{"for": "5s"}, check={"error_rate": "< 1%"})
    third = stage(stage="extended", check={"error_rate": "< 1%"})
    result = run(scripts, clock, [first, second, third])
    assert [s.stage for s in result.stages] == ["immediate", "short-term"]
    assert [s.verdict for s in result.stages] == ["pass", "fail"]


def test_progress_reports_each_interval_with_values_beside_conditions(scripts: Scripts, clock: FakeClock) -> None:
    scripts.add("probe", [good()])
    seen: list[StageProgress] = []
    run(scripts, clock, [stage(**{"for": "3s"}, check={"p95": "< 500ms"})], on_progress=seen.append)
    assert [(p.done, p.planned) for p in seen] == [(1, 3), (2, 3), (3, 3)]
    assert seen[-1].values["p95"] == 90.0
    assert seen[-1].checks == {"p95": "< 500ms"}
    assert seen[-1].outcomes == {"p95": "pass"}


def test_a_wall_clock_jump_changes_nothing_but_the_labels(scripts: Scripts, clock: FakeClock) -> None:
    def jump(p: StageProgress) -> None:
        if p.done == 2:
            clock.jump(-3600)  # NTP steps the clock back an hour mid-stage

    scripts.add("probe", [good(), good(), good(error_rate=9.0), good(error_rate=9.0)])
    result = run(scripts, clock, [stage(check={"error_rate": "< 1%"}, failures_allowed=1)], on_progress=jump)
    assert result.stages[0].intervals == 4
    assert result.detection_s == pytest.approx(2.0)


def test_a_stage_checking_a_metric_no_source_reports_is_a_config_error(scripts: Scripts, clock: FakeClock) -> None:
    scripts.add("probe", [good()])
    with pytest.raises(ConfigError) as err:
        run(scripts, clock, [stage(check={"cpu": "< 70%"})])
    assert str(err.value) == (
        "stage immediate: checks cpu, which none of its sources reports "
        "(they report error_rate, p50, p95, p99, requests)"
    )


def test_a_condition_in_the_wrong_unit_is_a_config_error(scripts: Scripts, clock: FakeClock) -> None:
    scripts.add("probe", [good()])
    with pytest.raises(ConfigError) as err:
        run(scripts, clock, [stage(check={"p95": "< 1%"})])
    assert str(err.value) == "p95: '< 1%' does not apply: p95 is in ms"


def test_more_sources_are_read_in_the_same_intervals(scripts: Scripts, clock: FakeClock) -> None:
    scripts.add("probe", [good()])
    scripts.add("system", [{"cpu": 35.0}, {"cpu": 95.0}], units={"cpu": "%"})
    result = run(scripts, clock, [stage(check={"p95": "< 500ms", "cpu": "< 70%"}, sources={"system": {}})])
    assert result.verdict == "fail"
    assert scripts.opened == ["probe", "system"]
    assert "cpu 95% breaks < 70% (absolute)" in result.reason
