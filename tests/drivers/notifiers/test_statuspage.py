"""The ``statuspage`` step against a local server speaking Statuspage's API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.drivers.notifiers.statuspage_server import Page, statuspage

from releasegate.drivers.api import Release
from releasegate.drivers.checks.statuspage import Statuspage
from releasegate.testing import StaticSecrets, run_driver

RELEASE = Release(environment="production", version="1.2.0")


@pytest.fixture
def page() -> Iterator[Page]:
    with statuspage() as running:
        yield running


def _run(page: Page, action: str, *, key: str | None = None, undo: bool = False,  # type: ignore[no-untyped-def]
         workdir: Path | None = None, **extra: object):
    secrets = StaticSecrets({"PAGE": page.url, "KEY": key or page.api_key})
    options = {"page": "${env:PAGE}", "api_key": "${env:KEY}", "action": action, **extra}
    return run_driver(Statuspage(), options, release=RELEASE, secrets=secrets,  # type: ignore[arg-type]
                      action="undo" if undo else None, workdir=workdir)


def test_open_update_resolve(page: Page) -> None:
    opened = _run(page, "open", expected="45m")
    assert opened.ok, opened.summary
    assert opened.summary == "status page: 'Deployment of 1.2.0 to production' is in_progress"
    [incident] = page.incidents.values()
    assert incident["scheduled_for"] < incident["scheduled_until"]
    updated = _run(page, "update", body="Migrations done; {version} is warming up.", notify_subscribers=True)
    assert updated.ok, updated.summary
    assert incident["incident_updates"][0]["body"] == "Migrations done; 1.2.0 is warming up."
    assert incident["deliver_notifications"] is True
    resolved = _run(page, "resolve")
    assert resolved.ok, resolved.summary
    assert (incident["status"], incident["incident_updates"][0]["body"]) == (
        "completed", "Deployment of 1.2.0 to production is complete.")
    assert resolved.evidence["incident_id"] == incident["id"]


def test_a_rollback_completes_the_maintenance(page: Page) -> None:
    assert _run(page, "open").ok
    undone = _run(page, "open", undo=True)
    assert undone.ok, undone.summary
    [incident] = page.incidents.values()
    assert incident["status"] == "completed"
    assert incident["incident_updates"][0]["body"] == "Deployment of 1.2.0 to production was rolled back."


def test_a_wrong_key_is_refused_and_never_shown(page: Page) -> None:
    refused = _run(page, "open", key="wrong-key-123")
    assert (refused.ok, refused.summary) == (False, "status page refused the API key (401)")


def test_resolving_what_was_never_opened(page: Page) -> None:
    missing = _run(page, "resolve")
    assert (missing.ok, missing.summary) == (
        False, "status page has no unresolved maintenance named 'Deployment of 1.2.0 to production'")


def test_an_unreachable_page() -> None:
    down = Page(port=9)  # the discard port: nothing listens
    result = _run(down, "open")
    assert (result.ok, result.summary) == (False, "status page cannot be reached: ConnectError")


def test_customers_hear_of_user_facing_changes_only(page: Page, tmp_path: Path) -> None:
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text("## [1.2.0]\n### Added\n- Payment reconciliation. Nightly.\n"
                         "### Internal\n- Faster CI.\n## [1.1.5]\n### Fixed\n- Old.\n", encoding="utf-8")
    assert _run(page, "open").ok
    told = _run(page, "update", workdir=tmp_path, notify_subscribers=True, only_with_changes=True,
                body="What changes for you:\n{changes}")
    assert told.ok, told.summary
    [incident] = page.incidents.values()
    assert incident["incident_updates"][0]["body"] == "What changes for you:\n- Payment reconciliation."
    assert incident["deliver_notifications"] is True
    changelog.write_text("## [1.2.0]\n### Internal\n- Faster CI.\n", encoding="utf-8")
    quiet = _run(page, "update", workdir=tmp_path, notify_subscribers=True, only_with_changes=True,
                 body="What changes for you:\n{changes}")
    assert (quiet.ok, quiet.evidence["sent"]) == (True, False)
    assert "no user-facing changes in CHANGELOG.md for 1.2.0" in quiet.summary
    assert len(incident["incident_updates"]) == 2  # the open and the first update only
    missing = _run(page, "update", workdir=tmp_path / "nowhere", only_with_changes=True)
    assert not missing.ok
    assert "changelog CHANGELOG.md: cannot read it" in missing.summary
