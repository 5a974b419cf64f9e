"""Implementation of the deployment commands."""

from __future__ import annotations

from releasegate.cli.context import Globals
from releasegate.cli.later import not_yet

_ENGINE = "the engine issue (#3)"


def plan(g: Globals, env: str, version: str | None, *, kind: str) -> int:
    not_yet("plan", _ENGINE)


def check(g: Globals, env: str, version: str, *, kind: str) -> int:
    not_yet("check", _ENGINE)


def deploy(
    g: Globals,
    env: str,
    version: str,
    *,
    kind: str,
    emergency: bool,
    reason: str | None,
    override_freeze: bool,
    yes: bool,
) -> int:
    not_yet("deploy", _ENGINE)


def rollback(g: Globals, env: str, *, to: str | None, reason: str | None) -> int:
    not_yet("rollback", _ENGINE)


def resume(g: Globals, id: int | None) -> int:
    not_yet("resume", _ENGINE)


def cancel(g: Globals, id: int) -> int:
    not_yet("cancel", _ENGINE)


def status(g: Globals, env: str | None) -> int:
    not_yet("status", _ENGINE)


def history(g: Globals, env: str | None, *, limit: int) -> int:
    not_yet("history", _ENGINE)


def show(g: Globals, id: int, *, fmt: str) -> int:
    not_yet("show", _ENGINE)


def confirm(g: Globals, id: int, item: str, *, note: str | None) -> int:
    not_yet("confirm", _ENGINE)
