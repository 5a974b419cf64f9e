"""Implementation of demo."""

from __future__ import annotations

from releasegate.cli.later import not_yet


def demo(*, keep: bool) -> int:
    not_yet("demo", "the demo issue (#4)")
