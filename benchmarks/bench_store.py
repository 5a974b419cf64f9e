"""Store benchmark: a 10,000-event deployment log in SQLite, then verify and list it.

Run: ``.venv/bin/python benchmarks/bench_store.py [--events N]``. Prints ``name: value unit``
lines. Target: ``verify_chain`` under 1 s for 10,000 events.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from releasegate.store.api import open_store


def main() -> None:
    """Write the log, time verification and listing, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    events = parser.parse_args().events
    with (
        tempfile.TemporaryDirectory() as folder,
        open_store(f"sqlite:///{Path(folder) / 'state.db'}") as store,
    ):
        deployment = store.create_deployment(
            environment="production",
            version="1.0.0",
            kind="normal",
            user="bench",
            plan={"steps": ["tests", "backup", "migrate", "release", "health", "smoke"]},
        )
        started = time.perf_counter()
        for n in range(events - 1):  # plus deployment.created
            store.append_event(
                "step.progress",
                {
                    "step_id": f"step-{n % 12}",
                    "attempt": 1,
                    "n": n,
                    "ratio": n / 7,
                    "summary": "ok: 200 in 12ms",
                },
                deployment_id=deployment.id,
            )
        written = time.perf_counter() - started

        started = time.perf_counter()
        report = store.verify_chain()
        verified = time.perf_counter() - started
        if not (report.ok and report.checked == events):
            raise SystemExit(f"verify_chain failed: {report}")

        started = time.perf_counter()
        listed = store.list_events(deployment_id=deployment.id)
        listing = time.perf_counter() - started
        if len(listed) != events:
            raise SystemExit(f"listed {len(listed)} events, expected {events}")

    print(f"store.events: {events} events")
    print(f"store.append_event: {written / (events - 1) * 1e3:.3f} ms/event")
    print(f"store.append_event.throughput: {(events - 1) / written:.0f} events/s")
    print(f"store.verify_chain: {verified:.3f} s")
    print(f"store.verify_chain.rate: {events / verified:.0f} events/s")
    print(f"store.list_events.deployment: {listing:.3f} s")


if __name__ == "__main__":
    main()
