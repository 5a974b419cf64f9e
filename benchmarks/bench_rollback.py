"""Rollback through the command line, end to end (issue 8): the time from
``releasegate rollback production`` starting to the old version serving every request,
against the target's own swap alone.

A demo workspace (the example service, the local target) runs 1.1.5 (adopted and started)
then 1.2.0 (deployed through the CLI); a client polls ``/monitoring/version`` as fast as it
can while ``releasegate rollback production`` runs, and records when the last answer from
1.2.0 came. Repeated ``--runs`` times (1.2.0 deployed again between them). CPU of the
rollback command is taken from ``getrusage(RUSAGE_CHILDREN)``.

    python benchmarks/bench_rollback.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from releasegate.demo.workspace import prepare

RG = [sys.executable, "-m", "releasegate"]


def _rg(ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RG, "-c", str(ws / "releasegate.yaml"), "--as", "dave", *args],
        capture_output=True, text=True, timeout=600, cwd=ws,
    )


def _ok(done: subprocess.CompletedProcess[str], what: str) -> None:
    if done.returncode != 0:
        sys.exit(f"{what} exited {done.returncode}: {done.stdout[-2000:]}{done.stderr[-2000:]}")


class Watcher(threading.Thread):
    """Polls the version endpoint; remembers when each version last answered."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.last: dict[str, float] = {}
        self.failed = 0
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self.stop.is_set():
                try:
                    version = client.get(f"{self.url}/monitoring/version").json()["version"]
                    self.last[version] = time.monotonic()
                except (httpx.HTTPError, ValueError, KeyError):
                    self.failed += 1


def _lean_config(path: Path) -> None:
    """Production with its target and nothing else: what is measured is the rollback."""
    from ruamel.yaml import YAML

    yaml = YAML()
    data = yaml.load(path.read_text(encoding="utf-8"))
    prod = data["environments"]["production"]
    data["environments"] = {"production": {
        "url": prod["url"], "target": prod["target"],
        "deploy": [{"id": "release", "uses": "target"}],
    }}
    for key in ("confirmations", "users", "calendars", "emergency"):
        data.pop(key, None)
    with path.open("w", encoding="utf-8") as fh:
        yaml.dump(data, fh)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ws = prepare()
    root = ws.root
    _lean_config(root / "releasegate.yaml")
    env = dict(os.environ)
    os.environ.update(ws.env_vars())
    try:
        for step in (("adopt", "production", "1.1.5"),):
            _ok(_rg(root, *step), " ".join(step))
        for argv in (
            [sys.executable, "scripts/prepare_data.py", "--data-dir", "data/production"],
            [sys.executable, "scripts/migrate.py", "up", "--data-dir", "data/production", "--version", "1.1.5"],
        ):
            subprocess.run(argv, cwd=root, check=True, capture_output=True,
                           env={**os.environ, "DATABASE_URL": ws.env_vars()["CAMARKETPLACE_PRODUCTION_DB"]})
        _ok(_rg(root, "target", "start", "production"), "target start")
        walls: list[float] = []
        cpus: list[float] = []
        failed = 0
        for _ in range(args.runs):
            deploy = _rg(root, "deploy", "production", "1.2.0", "--yes")
            _ok(deploy, "deploy 1.2.0")
            watcher = Watcher(ws.url("production"))
            watcher.start()
            time.sleep(0.5)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.monotonic()
            back = _rg(root, "rollback", "production", "--reason", "benchmark")
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            time.sleep(1.0)
            watcher.stop.set()
            watcher.join()
            _ok(back, "rollback")
            walls.append(watcher.last.get("1.2.0", start) - start)
            cpus.append((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime))
            failed += watcher.failed
        print(f"rollback.cli_to_old_serving_all_median: {statistics.median(walls):.2f} s "
              f"(max {max(walls):.2f}, runs {len(walls)})")
        print(f"rollback.cli_cpu_median: {statistics.median(cpus) * 1000:.0f} ms CPU")
        print(f"rollback.failed_requests: {failed}")
        return 0
    finally:
        _rg(root, "target", "stop", "production")
        os.environ.clear()
        os.environ.update(env)


if __name__ == "__main__":
    sys.exit(main())
