"""Bad configuration reaching policy gives one clear line naming where it is."""

from __future__ import annotations

from typing import Any

import pytest

from releasegate.errors import ConfigError
from releasegate.policy.api import check_deploy

from .helpers import NO_FACTS, make_config, utc


def _error(**production: Any) -> str:
    with pytest.raises(ConfigError) as err:
        check_deploy(make_config(**production), "production", None, "normal", "dave", NO_FACTS, utc(2026, 4, 14, 11))
    return str(err.value)


def test_unknown_time_zone() -> None:
    assert _error(window={"hours": "10:00-14:00", "tz": "Asia/Kolkatta"}) == (
        "environments.production.window.tz: 'Asia/Kolkatta' is not a known IANA time zone "
        "(did you mean 'Asia/Kolkata'?)"
    )


def test_inverted_and_overlapping_hours() -> None:
    assert _error(window={"hours": "18:00-09:00"}) == (
        "environments.production.window.hours: '18:00-09:00' ends before it starts "
        "(split a range across midnight into two days)"
    )
    assert _error(window=[{"hours": "10:00-11:00"}, {"hours": ["09:00-12:00", "11:00-13:00"]}]) == (
        "environments.production.window[1].hours: hour ranges overlap: 09:00-12:00 and 11:00-..."
    )


def test_bad_day() -> None:
    assert _error(window={"days": ["tusday"]}) == (
        "environments.production.window.days: 'tusday' is not a day (did you mean 'tuesday'?)"
    )


def test_unknown_country_and_category() -> None:
    config = make_config(freezes=["india"])
    calendar = config.calendars["india"]
    for source, message in [
        ({"country": "XX"}, "calendars.india.holidays.country: 'XX' is not a country the holidays package knows"),
        ({"country": "IN", "categories": ["public", "bank"]},
         "calendars.india.holidays.categories[1]: 'bank' is not a holiday category of IN "
         "(known: government, optional, optional_women, public)"),
    ]:
        broken = config.model_copy(update={"calendars": {"india": calendar.model_copy(
            update={"holidays": calendar.holidays.model_validate(source)})}})  # type: ignore[union-attr]
        with pytest.raises(ConfigError) as err:
            check_deploy(broken, "production", None, "normal", "dave", NO_FACTS, utc(2026, 4, 14, 11))
        assert str(err.value) == message


def test_unknown_freeze_name_and_kind() -> None:
    assert _error(freezes=["peak"]) == (
        "environments.production.freezes[0]: 'peak' is neither a calendar nor a built-in freeze "
        "(incidents, campaigns) (did you mean 'peaks'?)"
    )
    with pytest.raises(ConfigError) as err:
        check_deploy(make_config(), "production", None, "minor", "dave", NO_FACTS, utc(2026, 4, 14, 11))
    assert str(err.value) == "--kind: 'minor' is not a release kind (use normal, major, hotfix, rollback)"


def test_a_naive_time_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        check_deploy(make_config(), "production", None, "normal", "dave", NO_FACTS, utc(2026, 4, 14).replace(tzinfo=None))
