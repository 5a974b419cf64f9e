"""A believable 13-week production history, written through the real store (seeded)."""

from __future__ import annotations

import random
from datetime import timedelta

from tests.metrics.history import History


def thirteen_weeks(h: History, *, seed: int = 7) -> None:
    """About three deployments a week: mostly good, some stopped at gates, some rolled
    back, a manual rollback, hotfixes, incidents, defects and coverage figures."""
    rng = random.Random(seed)
    minor = 0
    start = h.clock.now
    while h.clock.now < start + timedelta(weeks=13):
        h.clock.advance(hours=rng.uniform(20, 70))
        minor += 1
        version = f"1.{minor}.0"
        roll = rng.random()
        coverage = round(rng.uniform(78, 88), 1)
        if roll < 0.08:
            h.run(version, status="failed", at_gates=True, minutes=rng.uniform(2, 6), coverage=coverage)
            continue
        if roll < 0.16:
            h.run(version, status="rolled_back", minutes=rng.uniform(8, 20), fails_after=rng.uniform(3, 6),
                  coverage=coverage)
            continue
        d = h.run(version, minutes=rng.uniform(9, 40), coverage=coverage)
        h.release(version, commits_hours_before=[rng.lognormvariate(3.0, 0.9) for _ in range(rng.randint(1, 6))])
        if roll > 0.95:
            h.clock.advance(minutes=rng.uniform(20, 90))
            h.run(f"1.{minor - 1}.0", kind="rollback", rollback_of=d, minutes=rng.uniform(4, 8))
        elif roll > 0.90:
            h.clock.advance(hours=rng.uniform(1, 6))
            incident = h.store.open_incident(title="errors after release", severity="high", impact=5,
                                             environment="production", user="ops", action="fix", deadline=None)
            h.store.link_failure(d, cause="incident", incident_id=incident.id, user="ops")
            h.clock.advance(minutes=rng.uniform(15, 120))
            fix = h.run(f"1.{minor}.1", kind="hotfix", minutes=rng.uniform(8, 15))
            h.store.link_failure(d, cause="hotfix", fixed_by=fix, user="ops")
            h.store.close_incident(incident.id, user="ops")
            h.store.add_defect(d, kind="bug", note="found in production", user="qa")
        if rng.random() < 0.2:
            h.store.add_defect(d, kind=rng.choice(["bug", "complaint", "performance"]), note="reported", user="support")
