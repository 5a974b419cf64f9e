"""The deployment announcement, from a deployment's records."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.metrics.history import History

from releasegate.errors import ConfigError
from releasegate.metrics.announcement import announcement_facts, render_announcement
from releasegate.metrics.changelog import changelog_entry, entry_changes

CHANGELOG = """# Changelog

## [1.2.0] - 2026-01-12
### Added
- New payment reconciliation system. It matches bank files nightly.
### Fixed
- Resolved issue with **CA verification**.
### Changed
- Improved search performance

## [1.1.0] - 2026-01-02
### Added
- Something older
"""


def _deploy(h: History) -> int:
    d = h.store.create_deployment(environment="production", version="1.2.0", kind="normal",
                                  user="ana", plan={}).id
    h.store.set_project(d, "shop")
    h.store.set_deployment_status(d, "running")
    for step, summary in (("release", "1.2.0 is live"), ("health", "3 endpoints healthy"),
                          ("smoke", "5 flows passed")):
        run = h.store.start_step(d, step_id=step, phase="deploy", attempt=1)
        h.clock.advance(minutes=5)
        h.store.finish_step(run.id, status="succeeded", summary=summary)
    h.store.set_deployment_status(d, "succeeded")
    h.store.record_release(project="shop", environment="production", version="1.2.0", kind="normal",
                           commit="a" * 40, previous_commit=None, changes=[],
                           changelog=changelog_entry(CHANGELOG, "1.2.0"))
    return d


def test_the_checklists_announcement(history: History) -> None:
    d = _deploy(history)
    with history.store._engine.connect() as conn:
        facts = announcement_facts(conn, d, links={
            "Monitoring": "https://sentry.io/ca-marketplace/production",
            "Dashboards": "https://datadog.com/dashboard/ca-marketplace"})
    assert render_announcement(facts) == (
        "✅ Production Deployment Complete\n"
        "\n"
        "Version: v1.2.0\n"
        "Deployed: 2026-01-05 10:15 UTC\n"
        "Duration: 15m\n"
        "Downtime: None (zero-downtime deployment)\n"
        "\n"
        "Changes:\n"
        "- [Feature] New payment reconciliation system.\n"
        "- [Fix] Resolved issue with CA verification.\n"
        "- [Enhancement] Improved search performance\n"
        "\n"
        "Verification:\n"
        "✓ 1.2.0 is live\n"
        "✓ 3 endpoints healthy\n"
        "✓ 5 flows passed\n"
        "\n"
        "Monitoring: https://sentry.io/ca-marketplace/production\n"
        "Dashboards: https://datadog.com/dashboard/ca-marketplace\n"
    )


def test_downtime_and_a_team_template(history: History) -> None:
    d = _deploy(history)
    end = history.clock.now
    history.store.record_outage(d, started_at=end - timedelta(minutes=3), ended_at=end - timedelta(minutes=1),
                                source="maintenance")
    with history.store._engine.connect() as conn:
        facts = announcement_facts(conn, d)
    text = render_announcement(facts, "{{ version }} live after {{ duration }}; down {{ downtime }}")
    assert text == "1.2.0 live after 15m; down 2m\n"
    with pytest.raises(ConfigError, match=r"^announcement template: "):
        render_announcement(facts, "{% if %}")


def test_changelog_parsing() -> None:
    assert changelog_entry(CHANGELOG, "9.9.9") is None
    assert entry_changes(changelog_entry(CHANGELOG, "1.1.0") or "") == ["[Feature] Something older"]
