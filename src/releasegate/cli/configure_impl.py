"""Implementation of validate and schema."""

from __future__ import annotations

from pathlib import Path

from releasegate.cli.context import Globals
from releasegate.cli.later import not_yet


def validate(g: Globals) -> int:
    not_yet("validate", "the foundation issue")


def schema(g: Globals, *, out: Path | None) -> int:
    not_yet("schema", "the foundation issue")
