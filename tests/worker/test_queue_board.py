"""The queue on ``serve``: ``GET /api/v1/queue``, the environments page showing what waits
(and why, and until when) and what runs on which worker, and cancelling from both — with
a real server, a real worker process and a real browser.

Set ``RELEASEGATE_SCREENSHOTS=DIR`` to keep the browser's screenshots.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from tests.web.conftest import auth, serve
from tests.worker.conftest import Team, environment, sleep_step, wait_for

from releasegate.service import calendar, tokens
from releasegate.service.workspace import Workspace
from releasegate.web import create_app

pytestmark = pytest.mark.postgres
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def served(team: Team) -> Iterator[tuple[str, str]]:
    """staging (a slow step) and production (frozen for an hour) queued for, a server over
    the store, and an API token; yields (base URL, token)."""
    slow = sleep_step("slow", 4) + "      - {id: release, uses: target}\n"
    team.write(environment("staging", team.out, deploy=slow) + environment("production", team.out))
    made: list[Workspace] = []

    def factory() -> Workspace:
        made.append(team.ws())
        return made[-1]

    ws = factory()
    me = ws.actor(requested="ci", env_user=None)
    now = datetime.now(UTC)
    calendar.add_freeze(ws, me, env="production", start=now - timedelta(minutes=1),
                        end=now + timedelta(hours=1), reason="quarter end")
    secret = tokens.create_token(ws, me, "t-ci", user="ci").secret
    try:
        yield from ((url, secret) for url in serve(create_app(factory)))
    finally:
        for w in made:
            w.close()


def _queue(client: httpx.Client, token: str) -> dict[int, dict[str, object]]:
    answer = client.get("/api/v1/queue", headers=auth(token))
    assert answer.status_code == 200, answer.text
    return {int(q["id"]): q for q in answer.json()}


@contextmanager
def _signed_in(url: str, token: str) -> Iterator[httpx.Client]:
    """A client with a session, as a browser after ``/login``."""
    with httpx.Client(base_url=url, timeout=60, follow_redirects=True) as client:
        assert client.post("/login", data={"token": token, "next": "/"}).status_code == 200
        yield client


def test_the_queue_in_the_api_and_on_the_environments_page(team: Team, served: tuple[str, str]) -> None:
    url, token = served
    until = datetime.now(UTC) + timedelta(hours=3)
    first = team.enqueue("staging", "1.0.0")
    second = team.enqueue("staging", "1.0.1")
    held = team.enqueue("production", "1.0.0", when_allowed=True, until=until)
    with httpx.Client(base_url=url, timeout=60) as client:
        found = _queue(client, token)
        assert [found[i]["status"] for i in (first, second, held)] == ["queued", "queued", "waiting"]
        assert found[second]["behind"] == [first]
        assert "freeze" in str(found[held]["waiting"])
        next_at = datetime.fromisoformat(str(found[held]["next_decision_at"]))
        assert timedelta(minutes=58) < next_at - datetime.now(UTC) < timedelta(minutes=61)  # the freeze's end
        assert abs(datetime.fromisoformat(str(found[held]["not_after"])) - until) < timedelta(seconds=1)
        only = client.get("/api/v1/queue", params={"environment": "production"}, headers=auth(token))
        assert [q["id"] for q in only.json()] == [held]
        assert client.get("/api/v1/queue", params={"environment": "nowhere"},
                          headers=auth(token)).status_code == 404

    with _signed_in(url, token) as page:
        html = page.get("/").text
        for text in (f"q{first}", f"q{second}", f"behind q{first}", f"q{held}", "quarter end",
                     "decided again", "expires", 'aria-label="Cancel q'):
            assert text in html, text

        # one is cancelled from the page; a worker runs the first and never the cancelled one
        csrf = html.split('name="csrf" value="')[1].split('"')[0]
        done = page.post(f"/queue/{second}/cancel", data={"csrf": csrf})
        assert done.status_code == 200
        assert f"q{second} (1.0.1 → staging) cancelled: it will not run." in done.text
        team.start_worker("a")
        dep = wait_for("the worker to start the first", lambda: team.queued(first).deployment_id)
        worker = team.queued(first).worker
        html = page.get("/").text
        assert f"on worker {worker} (q{first})" in html
        assert f'href="/deployments/{dep}"' in html
        with httpx.Client(base_url=url, timeout=60) as client:
            refused = client.post(f"/api/v1/queue/{first}/cancel", headers=auth(token))
            assert refused.status_code == 409, refused.text
            assert f"worker {worker} started it first" in refused.json()["error"]["message"]
            cancelled = client.post(f"/api/v1/queue/{held}/cancel", headers=auth(token))
            assert cancelled.status_code == 200, cancelled.text
            assert (cancelled.json()["status"], cancelled.json()["job_cancelled"]) == ("cancelled", True)
            [ran] = team.wait_ended([first], timeout=60)
            assert (ran.detail or "").startswith("succeeded")
            assert _queue(client, token) == {}
            ended = client.get("/api/v1/queue", params={"include_ended": "true"}, headers=auth(token))
            assert {q["id"]: q["status"] for q in ended.json()} == {
                first: "done", second: "cancelled", held: "cancelled"}
        assert "Nothing is deploying." in page.get("/").text
    assert (team.out / "live-staging").read_text().strip() == "1.0.0"
    assert not (team.out / "live-production").exists()


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
def test_a_person_sees_the_queue_and_cancels_from_a_phone(
    team: Team, served: tuple[str, str], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    url, token = served
    first = team.enqueue("staging", "2.0.0")
    behind = team.enqueue("staging", "2.0.1")
    held = team.enqueue("production", "2.0.0", when_allowed=True,
                        until=datetime.now(UTC) + timedelta(hours=3))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            for name, width in (("desktop", 1200), ("phone", 390)):
                page = _browser_page(browser, url, token, width)
                page.get_by_text(f"q{held}", exact=True).first.wait_for(timeout=60_000)
                shown = page.locator("#now + ul").inner_text()
                assert "deployment blocked by policy (freeze" in shown
                assert "expires" in shown
                _shot(page, tmp_path, f"queue-{name}")
                if name == "phone":
                    page.get_by_role("button", name=f"Cancel q{behind}").click()
                    page.get_by_role("status").wait_for(timeout=60_000)
                    assert "cancelled: it will not run" in page.get_by_role("status").inner_text()
                    _shot(page, tmp_path, "queue-cancelled-phone")
                page.context.close()
            # a worker takes the first: the page says which worker runs it
            team.start_worker("a")
            page = _browser_page(browser, url, token, 1200)
            wait_for("the worker to start it", lambda: team.queued(first).deployment_id)
            page.reload()
            page.get_by_text(f"(q{first})").wait_for(timeout=60_000)
            assert f"on worker {team.queued(first).worker}" in page.locator("#now + ul").inner_text()
            _shot(page, tmp_path, "queue-running-desktop")
            page.context.close()
        finally:
            browser.close()
    assert team.queued(behind).status == "cancelled"


def _browser_page(browser: object, url: str, token: str, width: int) -> object:
    context = browser.new_context(viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{url}/login")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/")
    return page


def _shot(page: object, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    keep = os.environ.get("RELEASEGATE_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)

