"""A daemon thread that runs while a ``with`` block does: the demo's traffic and team."""

from __future__ import annotations

import threading
from typing import ClassVar, Self


class Background:
    """Runs ``self._run()`` in a daemon thread from ``__enter__`` to ``__exit__``;
    ``_run`` ends when ``self._stop`` is set."""

    thread_name: ClassVar[str] = "background"
    _stop: threading.Event
    _thread: threading.Thread

    def __enter__(self) -> Self:
        from releasegate.service.threads import before_threads

        before_threads()  # the thread reads the store while the story writes it
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        raise NotImplementedError
