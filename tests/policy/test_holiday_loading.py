"""Holidays are read from the one country module a calendar names, not all ~250 of them."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from releasegate.config.countries import country_codes, holiday_source_problems, holidays_of

PROBE = """
import sys
from releasegate.config.countries import holiday_source_problems, holidays_of
from releasegate.policy.calendars import check_holiday_source
from releasegate.config.models import HolidaySource
assert holiday_source_problems("IN", None, ("public", "optional")) == []
check_holiday_source(HolidaySource(country="IN", categories=["optional"]), "calendars.india.holidays")
print(sorted(holidays_of("IN", None, "public", 2026).values())[0])
import holidays  # the public API afterwards reuses the module already loaded
print(holidays.country_holidays("IN", years=2026).get("2026-01-26"))
print(sorted(m for m in sys.modules if m.startswith("holidays.countries")))
"""


def test_only_the_named_countrys_module_is_imported(tmp_path: Path) -> None:
    # an empty cache: the package is asked (with a kept answer it is not imported at all)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120,
        env=env,
    )
    first, republic_day, modules = done.stdout.splitlines()
    assert republic_day == "Republic Day"
    assert modules == "['holidays.countries.india']"
    assert first  # some holiday name


def test_holidays_of_a_country_and_a_subdivision() -> None:
    assert holidays_of("IN", None, "public", 2026)[date(2026, 1, 26)] == "Republic Day"
    assert holidays_of("US", "CA", "public", 2026)[date(2026, 7, 4)] == "Independence Day"
    assert "IN" in country_codes()
    assert "IND" in country_codes()


def test_a_holiday_source_is_checked_item_by_item() -> None:
    assert holiday_source_problems("ZZ", None, ("public",)) == [
        (("country",), "'ZZ' is not a country the holidays package knows")
    ]
    assert holiday_source_problems("US", "XX", ("public", "bank")) == [
        (("subdiv",), "'XX' is not a subdivision of US"),
        (
            ("categories", 1),
            "'bank' is not a holiday category of US (known: government, half_day, public, unofficial)",
        ),
    ]


def test_two_threads_loading_one_country_both_get_it() -> None:
    """A module is in sys.modules before it has run: a second thread must wait for it."""
    import subprocess
    import sys

    code = (
        "import threading\n"
        "from releasegate.config.countries import country_class\n"
        "found = []\n"
        "def load():\n"
        "    found.append(country_class('IN').__name__)\n"
        "threads = [threading.Thread(target=load) for _ in range(8)]\n"
        "[t.start() for t in threads]\n"
        "[t.join() for t in threads]\n"
        "print(sorted(found))\n"
    )
    for _ in range(3):  # each run races from a fresh interpreter
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == str(["IN"] * 8)
