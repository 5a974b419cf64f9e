"""Policy benchmarks (issue 5), in process, on the policy functions the CLI and engine call:

* ``policy explain`` with a year of calendars: India's public and optional holidays,
  month-end and quarter-end peaks, 50 campaigns and 20 ad-hoc freezes spread over a year,
  judged at 24 instants across the year — cold (every cache cleared before each call, so
  the holiday tables and zone transitions are recomputed) and warm. Target: under 50 ms.
* the next allowed time across a 60-day ad-hoc freeze (with the same calendars).
  Target: under 100 ms.

Prints ``name: value unit`` lines; exits 1 if a target is missed.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from releasegate.config.models import Config
from releasegate.policy import calendars, intervals
from releasegate.policy.api import check_deploy
from releasegate.policy.facts import CampaignFact, FreezeFact, PolicyFacts

START = datetime(2026, 1, 6, 11, tzinfo=UTC)
CONFIG = Config.model_validate({
    "project": "bench",
    "calendars": {
        "india": {"holidays": {"country": "IN", "categories": ["public", "optional"]}, "tz": "Asia/Kolkata"},
        "peaks": {"month_end": {"last_days": 2}, "quarter_end": {"last_days": 5, "business_days": True}},
    },
    "environments": {"production": {
        "window": {"days": ["tue", "wed", "thu"], "hours": ["10:00-12:00", "13:00-14:00"], "tz": "Europe/London"},
        "freezes": ["india", "peaks", "incidents", "campaigns"],
    }},
})
YEAR_FACTS = PolicyFacts(
    campaigns=tuple(
        CampaignFact(i, f"campaign {i}", START + timedelta(days=7 * i, hours=2), timedelta(hours=2), "production")
        for i in range(50)
    ),
    freezes=tuple(
        FreezeFact(i, "production", START + timedelta(days=18 * i), START + timedelta(days=18 * i, hours=30), "ad hoc")
        for i in range(20)
    ),
)


def _clear() -> None:
    calendars._holidays_of.cache_clear()
    calendars._holiday_problems.cache_clear()
    intervals._transitions.cache_clear()


def _time(call: Callable[[], object], *, cold: bool) -> float:
    if cold:
        _clear()
    began = time.perf_counter()
    call()
    return (time.perf_counter() - began) * 1000


def _explain(at: datetime, facts: PolicyFacts) -> Callable[[], object]:
    return lambda: check_deploy(CONFIG, "production", None, "normal", "bench", facts, at).explain()


def main() -> int:
    _explain(START, YEAR_FACTS)()  # imports (holidays alone is ~50 ms) are not the point
    instants = [START + timedelta(days=15 * i, hours=i % 5) for i in range(24)]
    cold = [_time(_explain(at, YEAR_FACTS), cold=True) for at in instants]
    warm = [_time(_explain(at, YEAR_FACTS), cold=False) for at in instants]
    freeze = FreezeFact(99, "production", START, START + timedelta(days=60), "60-day freeze")
    long_facts = PolicyFacts(freezes=(freeze,), campaigns=YEAR_FACTS.campaigns)
    decision = check_deploy(CONFIG, "production", None, "normal", "bench", long_facts, START)
    found = decision.next_allowed_at
    assert found is not None
    assert found >= freeze.end
    across_cold = [_time(_explain(START + timedelta(hours=i), long_facts), cold=True) for i in range(10)]
    across_warm = [_time(_explain(START + timedelta(hours=i), long_facts), cold=False) for i in range(10)]
    print(f"explain_year_calendars_cold_median: {statistics.median(cold):.1f} ms")
    print(f"explain_year_calendars_cold_max: {max(cold):.1f} ms")
    print(f"explain_year_calendars_warm_median: {statistics.median(warm):.1f} ms")
    print(f"next_allowed_60d_freeze_cold_median: {statistics.median(across_cold):.1f} ms")
    print(f"next_allowed_60d_freeze_cold_max: {max(across_cold):.1f} ms")
    print(f"next_allowed_60d_freeze_warm_median: {statistics.median(across_warm):.1f} ms")
    print(f"next_allowed_60d_freeze_found_after: {(found - START) / timedelta(days=1):.2f} days")
    missed = statistics.median(cold) >= 50 or statistics.median(across_cold) >= 100
    print(f"targets_met: {0 if missed else 1} bool")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
