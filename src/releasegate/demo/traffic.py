"""Real traffic during the demo's release: a client in a thread at a steady rate, counting
every request that fails, and the versions that answered."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import ClassVar

from releasegate.demo.background import Background


@dataclass
class Traffic(Background):
    thread_name: ClassVar[str] = "demo-traffic"
    url: str
    rate: float = 40.0
    sent: int = 0
    failed: int = 0
    versions: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

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
