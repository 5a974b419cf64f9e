"""The dashboard in a real browser (Debian's Chromium driven by Playwright): a page that
follows a deployment live while someone else signs, and a person pressing the button.

Set ``RELEASEGATE_SCREENSHOTS=DIR`` to keep the screenshots this takes.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from httpx import Client

from .conftest import auth
from .test_api import _wait_for

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")


@pytest.fixture
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def _shot(page: object, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    keep = os.environ.get("RELEASEGATE_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)


def _sign_in(browser: object, base_url: str, token: str, *, width: int = 1200) -> object:
    context = browser.new_context(viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{base_url}/login")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")
    return page


def test_a_page_follows_the_deployment_live_and_an_approver_signs(  # type: ignore[no-untyped-def]
    browser, base_url: str, client: Client, tokens_of, tmp_path: Path
) -> None:
    dev = auth(tokens_of["dev"])
    first = client.post("/api/v1/deployments", headers=dev, json={"environment": "staging", "version": "5.0"})
    id = first.json()["deployment_id"]
    _wait_for(lambda: client.get(f"/api/v1/deployments/{id}", headers=dev).json()["waiting_for"], "waiting")

    # a viewer watches: no buttons; the page updates by itself when ana signs elsewhere
    watcher = _sign_in(browser, base_url, tokens_of["vic"])
    _shot(watcher, tmp_path, "matrix")
    watcher.goto(f"{base_url}/deployments/{id}")  # type: ignore[attr-defined]
    watcher.get_by_text("Waiting for someone else to sign team-ready.").wait_for(timeout=60_000)  # type: ignore[attr-defined]
    assert watcher.get_by_role("button", name="Sign team-ready").count() == 0  # type: ignore[attr-defined]
    _shot(watcher, tmp_path, "deployment-waiting-viewer")
    signed = client.post("/api/v1/confirmations", headers=auth(tokens_of["ana"]),
                         json={"deployment": id, "item": "team-ready"})
    assert signed.status_code == 201
    watcher.locator("#live .summary .s-succeeded").wait_for(timeout=60_000)  # type: ignore[attr-defined]
    assert "team-ready signed by ana" in watcher.locator("#live").inner_text()  # type: ignore[attr-defined]
    _shot(watcher, tmp_path, "deployment-succeeded")

    # ana presses the button on the next one, on a phone-sized screen
    second = client.post("/api/v1/deployments", headers=dev, json={"environment": "staging", "version": "5.1"})
    id2 = second.json()["deployment_id"]
    _wait_for(lambda: client.get(f"/api/v1/deployments/{id2}", headers=dev).json()["waiting_for"], "waiting")
    phone = _sign_in(browser, base_url, tokens_of["ana"], width=390)
    phone.goto(f"{base_url}/deployments/{id2}")  # type: ignore[attr-defined]
    _shot(phone, tmp_path, "deployment-waiting-phone")
    phone.get_by_label("Note for team-ready").fill("QA here")  # type: ignore[attr-defined]
    phone.get_by_role("button", name="Sign team-ready").click()  # type: ignore[attr-defined]
    phone.locator("#live .summary .s-succeeded").wait_for(timeout=60_000)  # type: ignore[attr-defined]
    assert "signed by ana" in phone.locator("#live").inner_text()  # type: ignore[attr-defined]
    phone.goto(f"{base_url}/history")  # type: ignore[attr-defined]
    _shot(phone, tmp_path, "history-phone")

    from datetime import UTC, datetime, timedelta

    day = (datetime.now(UTC) + timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    client.post("/api/v1/freezes", headers=dev, json={
        "environment": "production", "start": day.isoformat(),
        "end": (day + timedelta(days=2)).isoformat(), "reason": "year-end audit",
    })
    phone.goto(f"{base_url}/")  # type: ignore[attr-defined]
    _shot(phone, tmp_path, "matrix-approver-phone")
    watcher.goto(f"{base_url}/calendar")  # type: ignore[attr-defined]
    assert watcher.locator("#cal-production ~ ol .d-closed").count() == 2  # type: ignore[attr-defined]
    _shot(watcher, tmp_path, "calendar")
