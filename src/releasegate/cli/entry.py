"""The console script's entry point (``releasegate = releasegate.cli.entry:run``).

It sets the garbage collector's young-generation threshold before anything else is
imported: a command's imports (Typer, the command modules, SQLAlchemy's and pydantic's
machinery, the config models) make most of the objects that live until it exits, and with
Python's default threshold of 700 the collector walks that growing graph over and over
while they are made (~2 % of ``policy explain``). ``releasegate.cli.main.run`` keeps the
threshold and freezes the heap at exit (``_tune_gc``).
"""

from __future__ import annotations

import gc

GC_THRESHOLD = 200_000
"""Net allocations between two young-generation collections (Python's default: 700)."""


def run() -> None:
    """Run the command in ``sys.argv`` (see :func:`releasegate.cli.main.run`)."""
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    from releasegate.cli.main import run as run_command

    run_command()
