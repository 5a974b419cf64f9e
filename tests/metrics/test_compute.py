"""compute_metrics over a history written through the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.metrics.history import History

from releasegate.config.records_models import MetricsSettings
from releasegate.metrics.compute import compute_metrics
from releasegate.store.facts_records import ChangeFact

START = datetime(2026, 1, 5, tzinfo=UTC)
PERIOD = {"since": START, "until": START + timedelta(weeks=4)}


def _story(h: History) -> dict[str, int]:
    """Six attempts in production, one of them stopped at its gates, and noise around them."""
    h.clock.advance(hours=10)
    ids = {"d1": h.run("1.0.0", minutes=10, coverage=81.5)}
    h.release("1.0.0", commits_hours_before=[2, 26, 50])
    h.clock.advance(days=1)
    ids["d2"] = h.run("1.1.0", status="failed", at_gates=True, minutes=3)
    h.clock.advance(hours=1)
    ids["d3"] = h.run("1.1.0", status="rolled_back", minutes=9, fails_after=4)  # back 5 min later
    h.clock.advance(hours=1)
    ids["d4"] = h.run("1.1.1", kind="hotfix", minutes=20, coverage=84.0)
    h.clock.advance(days=2)
    ids["d5"] = h.run("1.2.0", minutes=30)
    h.clock.advance(minutes=40)
    ids["r6"] = h.run("1.1.1", kind="rollback", rollback_of=ids["d5"], minutes=5)
    h.clock.advance(days=3)
    ids["d7"] = h.run("1.3.0", minutes=10)
    h.clock.advance(hours=1)
    incident = h.store.open_incident(title="checkout slow", severity="high", impact=5,
                                     environment="production", user="ops", action="fix", deadline=None)
    h.store.link_failure(ids["d7"], cause="incident", incident_id=incident.id, user="ops")
    h.clock.advance(minutes=30)
    h.store.close_incident(incident.id, user="ops")
    h.store.add_defect(ids["d7"], kind="bug", note="wrong total", user="qa")
    h.store.add_defect(ids["d7"], kind="complaint", note="slow", user="support")
    # not counted: a check run, a staging deployment, another project's deployment
    h.store.set_deployment_status(
        h.store.create_deployment(environment="production", version="1.4.0", kind="normal",
                                  user="ana", plan={}).id, "checked")
    h.run("1.4.0", environment="staging", status="failed", fails_after=1, minutes=2)
    h.run("9.0.0", project="other", status="rollback_failed", fails_after=1, minutes=2)
    return ids


def test_every_figure_of_a_small_history(history: History) -> None:
    _story(history)
    report = compute_metrics(
        history.store._engine, project="shop", environment="production",
        targets=MetricsSettings(min_n=5), **PERIOD,
    )
    got = report.to_json()
    assert got["success_rate"] == {
        "value": pytest.approx(4 / 6), "unit": "ratio", "target": "> 95%", "met": False, "n": 6,
        "status": "missed", "succeeded": 4, "stopped_at_gates": 1,
    }
    # d3 rolled back; d5 undone by a rollback run; d7 caused an incident: 3 of 5 deployed
    cfr = got["change_failure_rate"]
    assert (cfr["value"], cfr["n"], cfr["failed"], cfr["met"]) == (pytest.approx(0.6), 5, 3, False)
    assert cfr["dora"] == {"State of DevOps 2023": "low", "State of DevOps 2024": "low"}
    assert (got["rollback_rate"]["value"], got["rollback_rate"]["n"]) == (pytest.approx(0.4), 5)
    assert got["rework_rate"]["value"] == pytest.approx(2 / 6)  # hotfix d4 and rollback run r6
    freq = got["deployment_frequency"]
    assert (freq["value"], freq["deployments"], freq["target"], freq["met"]) == (1.0, 4, "2-4/week", False)
    # 5 min (d3, rolled back), 45 min (d5: live until the rollback run ended), 30 min (d7)
    rec = got["recovery_time"]
    assert (rec["n"], rec["ongoing"]) == (3, 0)
    assert rec["status"] == "not enough data"
    assert rec["met"] is None
    assert rec["value"] == pytest.approx(30 * 60, abs=0.01)
    assert rec["p90"] == pytest.approx(45 * 60, abs=0.01)
    assert got["mttr"]["value"] == pytest.approx(30 * 60, abs=0.01)
    # succeeded durations 10, 20, 30, 10 minutes: nearest-rank median 10, p90 30
    dur = got["deployment_duration"]
    assert (dur["value"], dur["p90"], dur["n"]) == (pytest.approx(600, abs=0.01), pytest.approx(1800, abs=0.01), 4)
    lead = got["lead_time"]
    assert (lead["n"], lead["value"], lead["p90"]) == (3, pytest.approx(26 * 3600, abs=0.01), pytest.approx(50 * 3600, abs=0.01))
    assert got["downtime"]["value"] == 0.0
    assert got["test_coverage"]["value"] == pytest.approx(0.84)
    assert got["test_coverage"]["met"] is True
    assert got["bugs"]["value"] == pytest.approx(1 / 5)
    assert got["customer_complaints"]["total"] == 1
    assert got["security_issues"]["met"] is True


def test_two_deployments_are_not_enough_data(history: History) -> None:
    history.clock.advance(hours=1)
    history.run("1.0.0")
    history.clock.advance(hours=1)
    history.run("1.1.0", status="rolled_back", fails_after=1, minutes=3)
    report = compute_metrics(history.store._engine, project="shop", environment="production", **PERIOD)
    for name in ("change_failure_rate", "rollback_rate", "success_rate", "deployment_duration"):
        metric = report.metrics[name]
        assert (metric.status, metric.met, metric.n) == ("not enough data", None, metric.n)
    assert report.metrics["change_failure_rate"].value == 0.5  # shown, but not graded
    assert "dora" not in report.metrics["change_failure_rate"].extra


def test_an_empty_store_has_no_figures(history: History) -> None:
    report = compute_metrics(history.store._engine, project="shop", environment="production", **PERIOD)
    assert {m.value for m in report.metrics.values()} == {None}
    assert {m.status for m in report.metrics.values()} == {"not enough data"}


def test_unlabelled_runs_count_for_the_configs_project(history: History) -> None:
    history.clock.advance(hours=1)
    history.run("1.0.0", project=None)
    history.run("1.0.1")
    only = compute_metrics(history.store._engine, project="shop", environment="production", **PERIOD)
    both = compute_metrics(history.store._engine, project="shop", environment="production",
                           include_unlabelled=True, **PERIOD)
    assert only.metrics["success_rate"].n == 1
    assert both.metrics["success_rate"].n == 2


def test_a_commit_dated_after_its_release_is_left_out(history: History) -> None:
    history.clock.advance(hours=1)
    history.run("1.0.0")
    history.release("1.0.0", commits_hours_before=[3, -2])  # a clock two hours fast
    lead = compute_metrics(history.store._engine, project="shop", environment="production",
                           targets=MetricsSettings(min_n=1), **PERIOD).metrics["lead_time"]
    assert (lead.n, lead.value, lead.extra["excluded_clock_skew"]) == (1, pytest.approx(3 * 3600, abs=0.01), 1)


def test_across_projects_the_index_walks_agree_with_the_sorts(
    history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Across projects, counts and percentiles are read along the stored figures' indexes
    (migration 0006); the same records sorted the per-project way give the same figures."""
    _story(history)
    history.clock.advance(hours=2)
    history.run("9.1.0", project="other", minutes=7)
    now = history.clock.now
    history.store.record_release(
        project="other", environment="production", version="9.1.0", kind="normal", commit="e" * 40,
        previous_commit=None, changes=[ChangeFact(sha=f"{i:040x}", first_commit_at=now - timedelta(hours=h),
                                                  merged_at=now, subject="x") for i, h in enumerate([1, 3])],
    )
    history.store.mark_live(project="other", environment="production", version="9.1.0", at=now)

    def everything() -> dict[str, object]:
        return compute_metrics(history.store._engine, project=None, environment="production",
                               targets=MetricsSettings(min_n=1), **PERIOD).to_json()

    walked = everything()
    monkeypatch.setattr("releasegate.metrics.queries.walks", lambda scope: False)
    assert everything() == walked
    assert walked["deployment_duration"]["n"] == 5  # type: ignore[index]
    assert walked["lead_time"]["n"] == 5  # type: ignore[index]
    assert walked["success_rate"]["n"] == 8  # type: ignore[index]


def test_a_failure_verification_found_counts_from_the_undo(history: History) -> None:
    """A rollback.when trigger is no failed step: the failure is dated when the undo began,
    so its recovery is the undo's time, not zero."""
    h = history
    h.clock.advance(hours=10)
    d = h.store.create_deployment(environment="production", version="2.0.0", kind="normal",
                                  user="ana", plan={}).id
    h.store.set_project(d, "shop")
    h.store.set_deployment_status(d, "running")
    release = h.store.start_step(d, step_id="release", phase="deploy", attempt=1)
    h.clock.advance(minutes=3)
    h.store.finish_step(release.id, status="succeeded", summary="live")
    h.clock.advance(minutes=2)  # verification watches, then its trigger fires
    undo = h.store.start_step(d, step_id="release", phase="deploy:undo", attempt=1)
    h.clock.advance(minutes=4)
    h.store.finish_step(undo.id, status="succeeded", summary="back on 1.9.0")
    h.store.set_deployment_status(d, "rolled_back")
    report = compute_metrics(h.store._engine, project="shop", environment="production",
                             targets=MetricsSettings(min_n=1), **PERIOD)
    assert report.metrics["recovery_time"].value == pytest.approx(4 * 60, abs=0.01)
