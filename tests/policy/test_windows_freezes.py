"""Windows and freezes on the checklist's concrete cases: Friday, weekend, Diwali 2026,
New Year (India's optional category), month-end, quarter-end, campaigns, incidents."""

from __future__ import annotations

from datetime import timedelta

from releasegate.policy.api import check_deploy
from releasegate.policy.facts import CampaignFact, FreezeFact, IncidentFact, PolicyFacts

from .helpers import HOUR, NO_FACTS, make_config, utc


def _result(decision, rule):  # type: ignore[no-untyped-def]
    return next(r for r in decision.results if r.rule == rule)


def test_a_tuesday_inside_the_window_is_allowed() -> None:
    decision = check_deploy(make_config(), "production", None, "normal", "dave", NO_FACTS, utc(2026, 4, 14, 11))
    assert decision.allowed
    assert decision.next_allowed_at == utc(2026, 4, 14, 11)
    assert _result(decision, "window").reason == (
        "Tue 2026-04-14 11:00 UTC is inside the window Tue-Thu 10:00-14:00 UTC"
    )


def test_friday_is_outside_the_window_and_the_next_time_is_tuesday_morning() -> None:
    decision = check_deploy(make_config(), "production", None, "normal", "dave", NO_FACTS, utc(2026, 4, 17, 11))
    assert not decision.allowed
    assert _result(decision, "window").reason == (
        "Fri 2026-04-17 11:00 UTC is outside the window Tue-Thu 10:00-14:00 UTC"
    )
    assert decision.next_allowed_at == utc(2026, 4, 21, 10)
    assert "Next allowed time: 2026-04-21 10:00 UTC (Tue)" in decision.explain()


def test_weekend_is_blocked() -> None:
    decision = check_deploy(make_config(), "production", None, "normal", "dave", NO_FACTS, utc(2026, 4, 18, 12))
    assert [r.rule for r in decision.denied] == ["window"]
    assert decision.next_allowed_at == utc(2026, 4, 21, 10)


def test_thursday_after_hours_waits_for_next_tuesday() -> None:
    decision = check_deploy(make_config(), "production", None, "normal", "dave", NO_FACTS, utc(2026, 4, 16, 14))
    assert not decision.allowed  # 14:00 is the end of 10:00-14:00: excluded
    assert decision.next_allowed_at == utc(2026, 4, 21, 10)


def test_diwali_2026_freezes_the_whole_day_in_india() -> None:
    config = make_config(window={"days": "daily", "hours": "00:00-24:00"}, freezes=["india-public"])
    # 8 November 2026 in Asia/Kolkata is 2026-11-07 18:30 to 2026-11-08 18:30 UTC
    inside = check_deploy(config, "production", None, "normal", "dave", NO_FACTS, utc(2026, 11, 7, 19))
    assert not inside.allowed
    assert _result(inside, "freeze:india-public").reason == "2026-11-08 is Diwali (IN public holiday)"
    assert inside.next_allowed_at == utc(2026, 11, 8, 18, 30)
    before = check_deploy(config, "production", None, "normal", "dave", NO_FACTS, utc(2026, 11, 7, 18))
    assert before.allowed


def test_new_year_is_frozen_only_when_the_optional_category_is_chosen() -> None:
    at = utc(2026, 1, 1, 6)
    public = make_config(window=None, freezes=["india-public"])
    assert check_deploy(public, "production", None, "normal", "dave", NO_FACTS, at).allowed
    both = make_config(window=None, freezes=["india"])
    decision = check_deploy(both, "production", None, "normal", "dave", NO_FACTS, at)
    assert _result(decision, "freeze:india").reason == "2026-01-01 is New Year's Day (IN optional holiday)"


def test_month_end_freezes_the_last_two_days() -> None:
    decision = check_deploy(make_config(), "production", None, "normal", "dave", NO_FACTS, utc(2026, 4, 29, 11))
    assert [r.rule for r in decision.denied] == ["freeze:peaks"]
    assert _result(decision, "freeze:peaks").reason == "2026-04-29 is month-end (last 2 days of the month)"
    assert decision.next_allowed_at == utc(2026, 5, 5, 10)  # 30 April frozen, 1 May a Friday


def test_quarter_end_freezes_the_last_five_days_of_december() -> None:
    decision = check_deploy(make_config(), "production", None, "normal", "dave", NO_FACTS, utc(2026, 12, 29, 11))
    assert _result(decision, "freeze:peaks").reason == "2026-12-29 is quarter-end (last 5 days of the quarter)"
    assert decision.next_allowed_at == utc(2027, 1, 5, 10)


def test_month_end_in_business_days_skips_the_weekend() -> None:
    config = make_config(window=None, freezes=["biz"])
    config = config.model_copy(
        update={"calendars": {"biz": config.calendars["peaks"].model_copy(
            update={"month_end": config.calendars["peaks"].month_end.model_copy(  # type: ignore[union-attr]
                update={"business_days": True, "last_days": 2})})}}
    )
    # January 2026 ends Fri 30, Sat 31: the last two business days are Thu 29 and Fri 30
    assert not check_deploy(config, "production", None, "normal", "dave", NO_FACTS, utc(2026, 1, 29, 9)).allowed
    assert check_deploy(config, "production", None, "normal", "dave", NO_FACTS, utc(2026, 1, 31, 9)).allowed
    assert check_deploy(config, "production", None, "normal", "dave", NO_FACTS, utc(2026, 1, 28, 9)).allowed


def _campaign(at):  # type: ignore[no-untyped-def]
    return PolicyFacts(campaigns=(CampaignFact(1, "Diwali sale", at, timedelta(hours=2), "production"),))


def test_one_hour_59_before_a_campaign_is_blocked_two_hours_one_is_allowed() -> None:
    launch = utc(2026, 4, 15, 14)
    facts = _campaign(launch)
    blocked = check_deploy(make_config(), "production", None, "normal", "dave", facts,
                           launch - timedelta(hours=1, minutes=59))
    assert not blocked.allowed
    assert _result(blocked, "freeze:campaigns").reason == (
        "campaign 'Diwali sale' at 2026-04-15 14:00 UTC (Wed): no deploys within 2h of it"
    )
    assert blocked.next_allowed_at == utc(2026, 4, 16, 10)
    allowed = check_deploy(make_config(), "production", None, "normal", "dave", facts,
                           launch - timedelta(hours=2, minutes=1))
    assert allowed.allowed


def test_a_campaign_for_another_environment_does_not_freeze_this_one() -> None:
    facts = PolicyFacts(campaigns=(CampaignFact(1, "x", utc(2026, 4, 15, 12), HOUR, "staging"),))
    assert check_deploy(make_config(), "production", None, "normal", "dave", facts, utc(2026, 4, 15, 12)).allowed


def test_an_open_critical_incident_freezes_production_until_closed() -> None:
    incident = IncidentFact(7, "payments down", "critical", "production", utc(2026, 4, 14, 9))
    decision = check_deploy(make_config(), "production", None, "normal", "dave",
                            PolicyFacts(incidents=(incident,)), utc(2026, 4, 14, 11))
    assert not decision.allowed
    assert _result(decision, "freeze:incidents").reason == (
        "incident #7 (critical) is open: 'payments down', since 2026-04-14 09:00 UTC (Tue)"
    )
    assert decision.next_allowed_at is None
    assert decision.next_allowed_note == (
        "No allowed time while an incident is open (incident #7 (critical) is open: "
        "'payments down', since 2026-04-14 09:00 UTC (Tue)); once closed, the earliest would be "
        "2026-04-14 11:00 UTC (Tue)."
    )


def test_closed_or_minor_incidents_do_not_freeze() -> None:
    closed = IncidentFact(1, "x", "critical", "production", utc(2026, 4, 14, 9), closed_at=utc(2026, 4, 14, 10))
    minor = IncidentFact(2, "y", "medium", "production", utc(2026, 4, 14, 9))
    facts = PolicyFacts(incidents=(closed, minor))
    assert check_deploy(make_config(), "production", None, "normal", "dave", facts, utc(2026, 4, 14, 11)).allowed


def test_next_allowed_time_jumps_over_a_60_day_ad_hoc_freeze() -> None:
    freeze = FreezeFact(3, "all", utc(2026, 4, 14), utc(2026, 6, 13), "migration to new region")
    decision = check_deploy(make_config(), "production", None, "normal", "dave",
                            PolicyFacts(freezes=(freeze,)), utc(2026, 4, 14, 11))
    assert _result(decision, "freeze:ad-hoc").reason == (
        "freeze #3 from 2026-04-14 00:00 UTC (Tue) to 2026-06-13 00:00 UTC (Sat): migration to new region"
    )
    assert decision.next_allowed_at == utc(2026, 6, 16, 10)


def test_no_allowed_time_within_the_horizon_is_said() -> None:
    freeze = FreezeFact(3, "production", utc(2026, 1, 1), utc(2028, 1, 1), "forever")
    decision = check_deploy(make_config(), "production", None, "normal", "dave",
                            PolicyFacts(freezes=(freeze,)), utc(2026, 4, 14, 11))
    assert decision.next_allowed_at is None
    assert decision.next_allowed_note == (
        "No allowed time within 366d of 2026-04-14 11:00 UTC (Tue): check the windows and freeze calendars."
    )


def test_several_windows_and_ranges() -> None:
    config = make_config(window=[
        {"days": ["mon"], "hours": ["08:00-09:00", "15:00-16:00"], "tz": "Europe/Berlin"},
        {"days": ["sat"], "hours": "10:00-11:00", "tz": "UTC"},
    ], freezes=[])
    # Monday 2026-04-13 09:30 Berlin (07:30 UTC) is between the two ranges
    decision = check_deploy(config, "production", None, "normal", "dave", NO_FACTS, utc(2026, 4, 13, 7, 30))
    assert not decision.allowed
    assert decision.next_allowed_at == utc(2026, 4, 13, 13)  # 15:00 CEST
    later = check_deploy(config, "production", None, "normal", "dave", NO_FACTS, utc(2026, 4, 13, 14))
    assert later.next_allowed_at == utc(2026, 4, 18, 10)  # Saturday's UTC window


def test_window_hours_follow_daylight_saving_time() -> None:
    config = make_config(window={"days": "daily", "hours": "09:00-17:00", "tz": "Europe/London"}, freezes=[])
    # GMT on 28 March 2026, BST from 29 March: 09:00 local is 09:00 then 08:00 UTC
    assert check_deploy(config, "production", None, "normal", "d", NO_FACTS, utc(2026, 3, 28, 9)).allowed
    assert not check_deploy(config, "production", None, "normal", "d", NO_FACTS, utc(2026, 3, 28, 8, 30)).allowed
    assert check_deploy(config, "production", None, "normal", "d", NO_FACTS, utc(2026, 3, 30, 8, 30)).allowed
    assert check_deploy(config, "production", None, "normal", "d", NO_FACTS,
                        utc(2026, 3, 28, 17)).next_allowed_at == utc(2026, 3, 29, 8)
