"""Real traffic during the demo's release: a client in a thread at a steady rate, counting
every request that fails, and the versions that answered."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Traffic:
    url: str
    rate: float = 40.0
    sent: int = 0
    failed: int = 0
    versions: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Traffic:
        self._thread = threading.Thread(target=self._run, name="demo-traffic", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        import httpx

        interval = 1.0 / self.rate
        next_at = time.monotonic()
        with httpx.Client(timeout=5.0) as client:
            while not self._stop.is_set():
                self.sent += 1
                try:
                    response = client.get(f"{self.url}/monitoring/version")
                    if response.status_code == 200:
                        self.versions[str(response.json().get("version"))] += 1
                    else:
                        self.failed += 1
                        self.errors[f"HTTP {response.status_code}"] += 1
                except httpx.HTTPError as exc:
                    self.failed += 1
                    self.errors[type(exc).__name__] += 1
                next_at += interval
                self._stop.wait(max(0.0, next_at - time.monotonic()))

    def summary(self) -> str:
        seen = ", ".join(f"{v}: {n}" for v, n in sorted(self.versions.items()))
        text = f"{self.sent} requests during the swaps, {self.failed} failed (answered by {seen or 'nobody'})"
        if self.errors:
            text += "; errors: " + ", ".join(f"{k} ×{n}" for k, n in self.errors.items())
        return text
