"""What a process that runs use cases in several threads loads before its threads start.

The read paths import SQLAlchemy's ORM lazily (a command's start-up), and a first import in
one thread while another binds a parameter raced: SQLAlchemy registers its inspector for
plain values before ``sqlalchemy.orm.exc`` has finished importing, so the other thread met
a "partially initialized module" (a worker's migration check failed so in CI).
``releasegate worker`` and ``serve`` call :func:`before_threads` first.
"""

from __future__ import annotations


def before_threads() -> None:
    """Import the ORM and the store's mapped tables now, in this thread."""
    import releasegate.store.tables  # noqa: F401
