"""The demo's local Slack and Statuspage, and the example's notify and statuspage steps
talking to them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from releasegate.demo.mocks import MockServices, start

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "camarketplace"


@pytest.fixture
def mocks() -> Iterator[MockServices]:
    services, _ = start(api_key="k3y-never-shown-0123456789")
    try:
        yield services
    finally:
        services.stop()


def call(url: str, method: str = "GET", body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, str]:
    headers = {"Content-Type": "application/json", **(headers or {})}
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode()


def api(mocks: MockServices, method: str, path: str, fields: dict[str, Any] | None = None,
        key: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json",
               "Authorization": f"OAuth {key if key is not None else mocks.api_key}"}
    body = None if fields is None else json.dumps({"incident": fields}).encode()
    status, text = call(mocks.env()["STATUSPAGE_PAGE_URL"] + path, method, body, headers)
    return status, json.loads(text)


class FakeApp:
    """The two monitoring endpoints of the example service, serving ``version``."""

    def __init__(self, version: str) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                found = {"/monitoring/health": {"status": "ok"},
                         "/monitoring/version": {"version": outer.version}}.get(self.path)
                data = json.dumps(found or {"detail": "Not Found"}).encode()
                self.send_response(200 if found else 404)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.version = version
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeApp:
        self.thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


# -- the server -----------------------------------------------------------------------------
def test_slack_webhook_answers_ok_and_records_the_message(mocks: MockServices) -> None:
    body = json.dumps({"text": "hello", "channel": "#deployments"}).encode()
    assert call(mocks.webhook_url, "POST", body) == (200, "ok")
    assert [(m.service, m.where, m.text) for m in mocks.messages()] == [("slack", "#deployments", "hello")]


@pytest.mark.parametrize(("path", "body", "answer"), [
    ("", b"{not json", (400, "invalid_payload")),
    ("", b'{"channel": "#x"}', (400, "no_text")),
    ("/other", b'{"text": "hi"}', (404, "no_service")),
])
def test_slack_webhook_rejects_what_slack_rejects(mocks: MockServices, path: str, body: bytes,
                                                  answer: tuple[int, str]) -> None:
    assert call(mocks.webhook_url + path, "POST", body) == answer
    assert mocks.messages() == []


def test_statuspage_needs_the_oauth_key(mocks: MockServices) -> None:
    assert api(mocks, "GET", "/incidents", key="wrong")[0] == 401
    req = urllib.request.Request(mocks.env()["STATUSPAGE_PAGE_URL"] + "/incidents")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(req, timeout=5)
    caught.value.close()
    assert caught.value.code == 401


def test_statuspage_maintenance_lifecycle(mocks: MockServices) -> None:
    status, made = api(mocks, "POST", "/incidents", {
        "name": "deploy 1.2.0", "status": "in_progress", "body": "deploying",
        "scheduled_for": "2026-01-13T10:00:00Z", "scheduled_until": "2026-01-13T10:30:00Z"})
    assert status == 201
    assert made["status"] == "in_progress"
    assert [i["id"] for i in api(mocks, "GET", "/incidents/active_maintenance")[1]] == [made["id"]]
    assert api(mocks, "PATCH", f"/incidents/{made['id']}", {"status": "resolved"})[0] == 422
    status, done = api(mocks, "PATCH", f"/incidents/{made['id']}", {"status": "completed", "body": "done"})
    assert (status, done["status"]) == (200, "completed")
    assert done["incident_updates"][0]["body"] == "done"
    assert api(mocks, "GET", "/incidents/active_maintenance")[1] == []
    assert api(mocks, "PATCH", "/incidents/nope", {"status": "completed"})[0] == 404


def test_statuspage_unknown_page_is_404(mocks: MockServices) -> None:
    url = mocks.env()["STATUSPAGE_PAGE_URL"].rsplit("/", 1)[0] + "/otherpage/incidents"
    assert call(url, headers={"Authorization": f"OAuth {mocks.api_key}"})[0] == 404


def test_stop_closes_the_port() -> None:
    services, base = start()
    services.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(base + "/services/x", timeout=2)


def test_apprise_json_reaches_it_as_slack_would_be_reached(mocks: MockServices) -> None:
    from releasegate.drivers.notifiers.apprise_send import destination, send_now

    send_now(destination(mocks.env()["SLACK_NOTIFY_URL"]), title="Deploying 1.2.0", body="now",
             timeout=5)
    assert [(m.where, m.text) for m in mocks.messages()] == [("#deployments", "Deploying 1.2.0\nnow")]


# -- the example's own steps, run by releasegate ------------------------------------------------
COMMUNICATION = {
    "staging": {"deploy": ["notify-team", "tag", "release"]},
    "production": {
        "deploy": ["notify-internal", "status-page", "notify-customers-downtime", "tag", "release"],
        "post": ["notify-stakeholders", "notify-customers-changes", "deployment-announcement",
                 "update-status-page"],
    },
}


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=True)
    return done.stdout


def workspace(tmp_path: Path, url: str) -> Path:
    """The example's changelog in a git repository with a bare origin, and a
    config holding the example's notify: route, communication and tag steps exactly as
    written there."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe")
    example = yaml.load((EXAMPLE / "releasegate.yaml").read_text(encoding="utf-8"))
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "CHANGELOG.md").write_bytes((EXAMPLE / "CHANGELOG.md").read_bytes())
    (ws / ".gitignore").write_text(".releasegate/\n", encoding="utf-8")
    envs: dict[str, Any] = {}
    for name, phases in COMMUNICATION.items():
        env: dict[str, Any] = {"url": url, "target": {"uses": "command", "with": {"deploy": [sys.executable, "-c", "pass"]}}}
        for phase, ids in phases.items():
            steps = {s["id"]: s for s in example["environments"][name][phase]}
            env[phase] = [{k: v for k, v in steps[i].items() if k != "checklist"} for i in ids]
        envs[name] = env
    with (ws / "releasegate.yaml").open("w", encoding="utf-8") as fh:
        yaml.dump({"project": "camarketplace", "notify": example["notify"], "environments": envs}, fh)
    git(ws, "init", "-q", "-b", "main")
    git(ws, "-c", "user.name=Demo", "-c", "user.email=demo@example.com", "add", ".")
    git(ws, "-c", "user.name=Demo", "-c", "user.email=demo@example.com", "commit", "-q", "-m", "1.2.0")
    git(tmp_path, "init", "-q", "--bare", "origin.git")
    git(ws, "remote", "add", "origin", str(tmp_path / "origin.git"))
    git(ws, "config", "user.name", "releasegate demo")
    git(ws, "config", "user.email", "demo@releasegate.invalid")
    return ws


def test_example_steps_tag_and_tell_everyone(mocks: MockServices, tmp_path: Path) -> None:
    with FakeApp("1.2.0") as app:
        ws = workspace(tmp_path, app.url)
        env = {"PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
               "HOME": str(tmp_path), **mocks.env(), "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
               "RELEASEGATE_DATABASE_URL": f"sqlite:///{tmp_path}/state.db"}
        for args in (["staging", "1.2.0"], ["production", "1.2.0", "--kind", "major"]):
            result = subprocess.run(
                [sys.executable, "-m", "releasegate", "-c", str(ws / "releasegate.yaml"), "deploy", *args, "--yes"],
                capture_output=True, text=True, env=env, timeout=120, check=False, cwd=tmp_path,
            )
            assert result.returncode == 0, result.stdout + result.stderr
            assert mocks.api_key not in result.stdout + result.stderr
    tags = git(ws, "ls-remote", "--tags", "origin")
    assert "refs/tags/v1.2.0-staging" in tags
    assert "refs/tags/v1.2.0\n" in tags
    assert git(ws, "cat-file", "-t", "v1.2.0").strip() == "tag"  # annotated
    slack = [m.where for m in mocks.messages() if m.service == "slack"]
    assert slack == ["#deployments", "#qa", "#announcements", "#deployments", "#product",
                     "#support", "#announcements"]
    [incident] = mocks.incidents()
    assert incident["status"] == "completed"
    told = [m.text for m in mocks.messages() if m.subscribers_notified]
    assert len(told) == 2  # the downtime of a major release, then its user-facing changes
    assert "maintenance page" in told[0]
    assert "Payment reconciliation" in told[1]
    assert "0002_payment_reconciliation" not in told[1]  # migrations are not for customers
    texts = [m.text for m in mocks.messages() if m.service == "slack"]
    assert texts[0].startswith("🚀 Deploying 1.2.0 to staging")
    assert "[Feature] Payment reconciliation" in texts[3]  # the stakeholders hear of the changes
    assert "marks captured payments reconciled." in texts[3]  # a wrapped item, whole
    announcement = texts[-1]  # production's, from its own records
    for line in ("✅ Production Deployment Complete", "Version: v1.2.0", "Deployed: ",
                 "Downtime: None", "[Feature] Payment reconciliation", "✓ ", f"Service: {app.url}"):
        assert line in announcement, line
    assert "Duration: unknown" not in announcement
