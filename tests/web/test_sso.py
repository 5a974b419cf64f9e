"""Behind a single-sign-on proxy: the header names the user only on a connection from a
configured proxy address. Real requests over loopback: the "proxy" connects from
127.0.0.2 (trusted), anyone else from 127.0.0.1 (not trusted) — both reach the same server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from releasegate.service import tokens
from releasegate.service.workspace import Workspace
from releasegate.web import create_app

from .conftest import CONFIG, auth, serve

HEADER = "X-Auth-Request-User"
SSO = f"identity:\n  sso:\n    header: {HEADER}\n    trusted_proxies: [127.0.0.2/32, '::1']\n"
PROXY = "127.0.0.2"


@pytest.fixture
def sso_factory(tmp_path: Path) -> Iterator[Callable[[], Workspace]]:
    (tmp_path / "releasegate.yaml").write_text(CONFIG + SSO)
    made: list[Workspace] = []

    def factory() -> Workspace:
        ws = Workspace(tmp_path / "releasegate.yaml")
        made.append(ws)
        return ws

    yield factory
    for ws in made:
        ws.close()


@pytest.fixture
def url(sso_factory: Callable[[], Workspace]) -> Iterator[str]:
    # listening on every loopback address, so that 127.0.0.2 may connect as well
    for base in serve(create_app(sso_factory), host="0.0.0.0"):
        yield base.replace("0.0.0.0", "127.0.0.1")


def _from(address: str) -> httpx.Client:
    """A client whose connections leave from ``address``."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=60)


def test_the_proxys_header_names_the_user_and_the_record_says_sso(
    url: str, sso_factory: Callable[[], Workspace]
) -> None:
    with _from(PROXY) as proxy:
        listed = proxy.get(f"{url}/api/v1/deployments", headers={HEADER: "ana"})
        assert listed.status_code == 200, listed.text
        done = proxy.post(f"{url}/api/v1/approvals", headers={HEADER: "ana"},
                          json={"environment": "production", "version": "1.0.0", "role": "qa"})
        assert done.status_code == 201, done.text
        assert done.json()["user"] == "ana"
        page = proxy.get(f"{url}/", headers={HEADER: "ben"}, follow_redirects=False)
        assert page.status_code == 200
        assert "ben (tech-lead)" in page.text
        assert "signed in by single sign-on" in page.text
    (approval,) = sso_factory().store.list_approvals("production", "1.0.0")
    assert (approval.user, approval.via) == ("ana", "sso")


def test_the_header_from_any_other_address_is_ignored(url: str, sso_factory: Callable[[], Workspace]) -> None:
    ws = sso_factory()
    root = ws.actor(requested="root", env_user=None)
    vic = tokens.create_token(ws, root, "vic", user="vic").secret
    with _from("127.0.0.1") as elsewhere:
        alone = elsewhere.get(f"{url}/api/v1/deployments", headers={HEADER: "ana"})
        assert alone.status_code == 401
        assert alone.json()["error"]["message"] == tokens.INVALID
        # with a viewer's token the request is the viewer's, whatever the header says
        forged = elsewhere.post(f"{url}/api/v1/approvals", headers={HEADER: "ana", **auth(vic)},
                                json={"environment": "production", "version": "1.0.0", "role": "qa"})
        assert forged.status_code == 403, forged.text
        assert "vic" in forged.json()["error"]["message"]
        page = elsewhere.get(f"{url}/", headers={HEADER: "ana"}, follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"].startswith("/login")
    assert ws.store.list_approvals("production", "1.0.0") == []


def test_a_proxy_naming_someone_not_in_users_is_refused(url: str) -> None:
    with _from(PROXY) as proxy:
        got = proxy.get(f"{url}/api/v1/deployments", headers={HEADER: "mallory"})
        assert got.status_code == 401
        assert "mallory" in got.json()["error"]["message"]
        assert HEADER in got.json()["error"]["message"]
        # without the header, the proxy's request needs a token like any other
        assert proxy.get(f"{url}/api/v1/deployments").status_code == 401


def test_serve_believes_the_connection_not_x_forwarded_for(tmp_path: Path) -> None:
    """``releasegate serve`` itself: a request from a trusted proxy carrying the client's
    address in X-Forwarded-For is still the proxy's (uvicorn must not swap the peer), and
    an untrusted client cannot pose as the proxy by sending X-Forwarded-For."""
    from .test_serve import _free_port

    (tmp_path / "releasegate.yaml").write_text(CONFIG + SSO.replace("127.0.0.2/32", "127.0.0.1"))
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "releasegate", "serve", "--port", str(port)],
                              cwd=tmp_path, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/monitoring/health", timeout=5)
                break
            except httpx.TransportError:
                assert server.poll() is None, (tmp_path / "serve.log").read_text()
                assert time.monotonic() < deadline, "serve did not start listening"
                time.sleep(0.05)
        got = httpx.get(f"{base}/api/v1/deployments", timeout=30,
                        headers={HEADER: "dev", "X-Forwarded-For": "203.0.113.7"})
        assert got.status_code == 200, got.text
        with _from(PROXY) as elsewhere:
            posing = elsewhere.get(f"{base}/api/v1/deployments",
                                   headers={HEADER: "dev", "X-Forwarded-For": "127.0.0.1"})
            assert posing.status_code == 401
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
        log.close()
