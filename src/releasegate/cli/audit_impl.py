"""Implementation of audit verify."""

from __future__ import annotations

from releasegate.cli.context import Globals
from releasegate.cli.later import not_yet


def verify(g: Globals) -> int:
    not_yet("audit verify", "the foundation issue")
