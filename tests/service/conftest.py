"""A workspace with a real config, a real SQLite store and a `command` target."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from releasegate.identity import Actor
from releasegate.service.workspace import Workspace

USERS = """\
users:
  ana: {roles: [qa]}
  ben: {roles: [tech-lead]}
  dev: {roles: [devops]}
  root: {roles: [admin]}
"""

TARGET = """\
    target:
      uses: command
      with:
        deploy: [sh, -c, "echo {version} > live.txt"]
        rollback: [sh, -c, "echo {version} > live.txt"]
        current: [cat, live.txt]
"""


def environment(name: str, *, window: str = "", gates: str = "", extra: str = "") -> str:
    """One environment whose deploy phase writes the version to live.txt."""
    return (
        f"  {name}:\n{TARGET}{window}{extra}"
        + (f"    gates:\n{gates}" if gates else "")
        + "    deploy:\n      - {id: release, uses: target}\n"
    )


@pytest.fixture
def make_ws(tmp_path: Path) -> Iterator[Callable[[str], Workspace]]:
    made: list[Workspace] = []

    def make(body: str, *, users: str = USERS, top: str = "") -> Workspace:
        (tmp_path / "releasegate.yaml").write_text(f"project: t\n{top}{users}environments:\n{body}")
        ws = Workspace(tmp_path / "releasegate.yaml")
        made.append(ws)
        return ws

    yield make
    for ws in made:
        ws.close()


def actor(ws: Workspace, name: str) -> Actor:
    return ws.actor(requested=name, env_user=None)


FROZEN_TOP = """\
calendars:
  always: {dates: [{from: 2000-01-01, to: 2100-12-31}], reason: "frozen for the test"}
"""
"""A calendar that freezes every day (used with ``freezes: [always]``)."""

FROZEN = "    freezes: [always]\n"
