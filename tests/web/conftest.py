"""A workspace with users in every role, a real SQLite store, tokens, and the app over it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from releasegate.service import tokens
from releasegate.service.workspace import Workspace
from releasegate.web import create_app

CONFIG = """\
project: t
users:
  ana: {roles: [qa]}
  ben: {roles: [tech-lead]}
  dev: {roles: [devops]}
  root: {roles: [admin]}
  vic: {roles: [viewer]}
permissions:
  deploy: [devops, admin]
  rollback: [devops, admin]
  cancel: [devops, admin]
  approve: [qa, tech-lead, admin]
  confirm: [qa, tech-lead, devops, admin]
audit: {anchor: none}
environments:
  staging:
    target:
      uses: command
      with:
        deploy: [sh, -c, "echo {version} > live.txt"]
        rollback: [sh, -c, "echo {version} > live.txt"]
        current: [cat, live.txt]
    deploy:
      - {id: release, uses: target}
  production:
    target:
      uses: command
      with:
        deploy: [sh, -c, "echo {version} > prod.txt"]
        rollback: [sh, -c, "echo {version} > prod.txt"]
        current: [cat, prod.txt]
    approvals: {roles: [qa, tech-lead], distinct_people: true, self_approval: false}
    deploy:
      - {id: release, uses: target}
confirmations:
  - {id: team-ready, text: "The team is ready", by: [qa], environments: [staging], phase: deploy, wait: 2m}
"""

USERS = ("ana", "ben", "dev", "root", "vic")


@pytest.fixture
def workspace_factory(tmp_path: Path) -> Iterator[Callable[[], Workspace]]:
    (tmp_path / "releasegate.yaml").write_text(CONFIG)
    made: list[Workspace] = []

    def factory() -> Workspace:
        ws = Workspace(tmp_path / "releasegate.yaml")
        made.append(ws)
        return ws

    yield factory
    for ws in made:
        ws.close()


@pytest.fixture
def tokens_of(workspace_factory: Callable[[], Workspace]) -> dict[str, str]:
    """A token for each user (made by the admin through the use case)."""
    ws = workspace_factory()
    root = ws.actor(requested="root", env_user=None)
    return {u: tokens.create_token(ws, root, f"t-{u}", user=u).secret for u in USERS}


def serve(app: object, host: str = "127.0.0.1") -> Iterator[str]:
    """Run ``app`` under uvicorn on a free port of ``host`` in a thread, as ``releasegate
    serve`` runs it (no ``--proxy-headers``); yield its base URL."""
    config = uvicorn.Config(
        app, host=host, port=0, log_level="warning", lifespan="on", proxy_headers=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)


@pytest.fixture
def base_url(workspace_factory: Callable[[], Workspace]) -> Iterator[str]:
    """The app over the workspace, served on loopback by a real uvicorn."""
    yield from serve(create_app(workspace_factory))


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as c:
        yield c


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
