"""Whether standard output is a terminal, decided as Rich decides it, without importing Rich.

Commands that print a plain form to logs and pipes (``history``'s tab-separated lines,
``show``'s markdown) ask this first, so that a piped command does not pay for loading
Rich's console, tables and markdown renderer (a tenth of ``history``'s start-up).
"""

from __future__ import annotations

import os
import sys


def stdout_is_terminal() -> bool:
    """``rich.console.Console().is_terminal`` for standard output.

    ``TTY_COMPATIBLE=1``/``0`` decides first, then ``FORCE_COLOR`` (set and non-empty: a
    terminal), then whether standard output is a TTY.
    """
    compatible = os.environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    force = os.environ.get("FORCE_COLOR")
    if force is not None:
        return force != ""
    isatty = getattr(sys.stdout, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False
