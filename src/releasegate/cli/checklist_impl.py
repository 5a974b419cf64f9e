"""Implementation of init and checklist coverage."""

from __future__ import annotations

from pathlib import Path

from releasegate.cli.context import Globals
from releasegate.cli.later import not_yet


def init(g: Globals, *, from_checklist: Path | None, example: str | None, force: bool) -> int:
    not_yet("init", "the foundation issue")


def coverage(g: Globals, *, spec: Path | None) -> int:
    not_yet("checklist coverage", "the foundation issue")


def items(g: Globals, *, spec: Path | None) -> int:
    not_yet("checklist items", "the foundation issue")
