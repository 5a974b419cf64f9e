"""Team mode for real: a git repository in tmp_path, the store on a fresh PostgreSQL
database, ``releasegate worker`` processes started, killed (-9) and stopped (SIGTERM)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from releasegate.service import queue
from releasegate.service.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
GIT = ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci"]


def wait_for(what: str, check: Callable[[], object], timeout: float = 60.0) -> object:
    """Poll ``check`` until it returns something true, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def environment(name: str, out: Path, *, gates: str = "", deploy: str = "") -> str:
    """An environment whose target writes the version to ``out/live-NAME``."""
    live = out / f"live-{name}"
    return (
        f"  {name}:\n    target:\n      uses: command\n      with:\n"
        f'        deploy: [sh, -c, "echo {{version}} > {live}"]\n'
        f'        rollback: [sh, -c, "echo {{version}} > {live}"]\n'
        f"        current: [cat, {live}]\n"
        + (f"    gates:\n{gates}" if gates else "")
        + "    deploy:\n"
        + (deploy or "      - {id: release, uses: target}\n")
    )


def sleep_step(id: str, seconds: float, needs: str = "") -> str:
    extra = f", needs: [{needs}]" if needs else ""
    return (f'      - {{id: {id}, uses: command{extra}, with: {{run: ["{sys.executable}", "-c", '
            f'"import time; time.sleep({seconds})"]}}}}\n')


@dataclass
class Team:
    """A repository with a releasegate.yaml, a PostgreSQL store, and workers."""

    root: Path
    db_url: str
    out: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    lease_s: float = 3.0
    stalled_after: float = 2.0
    """Seconds without a heartbeat before a worker's job counts as stalled: short, for the
    takeover tests; tests of something else raise it so that a starved CI machine does not
    make a live worker look dead."""

    @property
    def config(self) -> Path:
        return self.root / "releasegate.yaml"

    def write(self, body: str, *, commit: bool = True) -> str:
        self.config.write_text(f"project: t\nenvironments:\n{body}")
        if commit:
            subprocess.run([*GIT, "add", "-A"], cwd=self.root, check=True)
            subprocess.run([*GIT, "commit", "-qm", "config"], cwd=self.root, check=True)
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=self.root, check=True,
                              capture_output=True, text=True).stdout.strip()

    def ws(self) -> Workspace:
        return Workspace(self.config, self.db_url)

    def enqueue(self, env: str, version: str, **kw: object) -> int:
        ws = self.ws()
        try:
            actor = ws.actor(requested="ci", env_user=None)
            return queue.enqueue(ws, actor, queue.Request("deploy", env, version, **kw)).id  # type: ignore[arg-type]
        finally:
            ws.close()

    def env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(ROOT / "src"), "RELEASEGATE_DATABASE_URL": self.db_url}

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "releasegate", "-c", str(self.config), *args],
            cwd=self.root, env=self.env(), capture_output=True, text=True, timeout=timeout,
        )

    def start_worker(self, name: str, *extra: str, cache: str | None = None) -> subprocess.Popen[bytes]:
        """A worker; workers given the same ``cache`` share it, as the workers of one
        machine do by default."""
        with open(self.out / f"worker-{name}.log", "ab") as log:
            proc = self._popen(cache or name, log, extra)
        self.procs.append(proc)
        return proc

    def _popen(self, name: str, log: object, extra: tuple[str, ...]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "releasegate", "worker", "--cache", str(self.out / f"cache-{name}"),
             "--lease", str(self.lease_s), "--heartbeat", "0.5", "--stalled-after", str(self.stalled_after), *extra],
            cwd=self.out, env=self.env(), stdout=log, stderr=subprocess.STDOUT,  # type: ignore[arg-type]
        )

    def queued(self, id: int) -> queue.QueuedRecord:
        ws = self.ws()
        try:
            return queue.get(ws, id)
        finally:
            ws.close()

    def started_and(self, id: int, look: Callable[[Workspace, int], bool]) -> bool:
        """Whether queued deployment ``id`` has started and ``look(ws, deployment_id)`` holds."""
        dep = self.queued(id).deployment_id
        if dep is None:
            return False
        ws = self.ws()
        try:
            return look(ws, dep)
        finally:
            ws.close()

    def wait_ended(self, ids: list[int], timeout: float) -> list[queue.QueuedRecord]:
        def ended() -> list[queue.QueuedRecord] | None:
            records = [self.queued(i) for i in ids]
            return records if all(r.status not in ("queued", "waiting", "running") for r in records) else None

        try:
            return wait_for(f"queued deployments {ids} to end", ended, timeout)  # type: ignore[return-value]
        except AssertionError as exc:  # say where they stand and what the workers said
            states = [(r.id, r.status, r.detail) for r in (self.queued(i) for i in ids)]
            logs = "".join(f"\n--- {log.name}\n" + log.read_text(errors="replace")[-3000:]
                           for log in sorted(self.out.glob("worker-*.log")))
            raise AssertionError(f"{exc}; states: {states}{logs}") from None

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)


@pytest.fixture
def team(tmp_path: Path, pg_url: str) -> Iterator[Team]:
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    out = tmp_path / "out"
    out.mkdir()
    made = Team(root, pg_url, out)
    try:
        yield made
    finally:
        made.stop_all()
