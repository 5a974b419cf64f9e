"""The demo's workspace: a fresh copy of the example service and its config, with the
few changes a demo needs said out loud (free ports, a shortened soak, short verification
stages, the hotfix's smoke run without its UPI flow)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from releasegate.errors import UsageError

DEMO_SOAK_S = 15
DEMO_STAGE = {"for": "9s", "every": "3s", "inconclusive_limit": 2, "confirm_within": "30s"}
"""Each verify stage in the demo: three intervals of 3 s (150 probe requests each). The demo
runs its traffic, its team and the probe in one process on a shared machine: an interval
where the probe fell behind its schedule is tolerated twice, and a stage left
inconclusive rolls back after 30 s instead of waiting 30 minutes for on-call."""
DEMO_PROBE = {"slip_tolerance": "100ms", "rate": 50}
"""50 requests/s, not 10: 1.2.1 slows every fourth request the app sees, and the demo's own
client (40/s, one request at a time) catches up after each slow answer with a burst that
takes the next fourth turn too, so a slower probe would hardly ever meet a slow turn.
Faster than that client, the probe gets its share of them, as it would on a real service."""
HOTFIX_SMOKE = "smoke-hotfix"
IGNORE = shutil.ignore_patterns("data", "__pycache__", ".releasegate", "*.pyc", ".pytest_cache")


def example_dir() -> Path:
    """``examples/camarketplace`` of the source tree releasegate runs from."""
    import releasegate

    for parent in Path(releasegate.__file__).resolve().parents:
        candidate = parent / "examples" / "camarketplace"
        if (candidate / "releasegate.yaml").is_file():
            return candidate
    raise UsageError(
        "the demo needs examples/camarketplace from releasegate's source tree "
        "(run it from a clone: make demo)"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Workspace:
    root: Path
    ports: dict[str, int] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)

    @property
    def config(self) -> Path:
        return self.root / "releasegate.yaml"

    def url(self, env: str) -> str:
        return f"http://127.0.0.1:{self.ports[env]}"

    def env_vars(self) -> dict[str, str]:
        """The secret references the example config names, pointed into the workspace."""
        return {
            f"CAMARKETPLACE_{env.upper()}_DB": f"sqlite:///{self.root / 'data' / env / 'camarketplace.db'}"
            for env in ("staging", "production")
        }


def prepare(root: Path | None = None) -> Workspace:
    """Copy the example into a new directory and adapt its config for the demo."""
    source = example_dir()
    base = root or Path(tempfile.mkdtemp(prefix="releasegate-demo-"))
    shutil.copytree(source, base, ignore=IGNORE, dirs_exist_ok=True)
    ws = Workspace(base)
    for env in ("staging", "production"):
        (base / "data" / env).mkdir(parents=True, exist_ok=True)
    adapt_config(ws)
    git_repository(ws)
    ws.changes.append(
        f"a git history for the metrics: 1.1.5 tagged {RELEASED_1_1_5_H // 24} days ago, then "
        f"{len(HISTORY)} changes begun {HISTORY[-1][0]}–{HISTORY[0][0]} hours before now "
        "(the lead time is measured from them)"
    )
    os.environ.update(ws.env_vars())
    # the config's commands say `python`: the one releasegate runs on, with the example's
    # dependencies, must come first (make demo does not activate the virtualenv)
    bindir = str(Path(sys.executable).parent)
    os.environ["PATH"] = os.pathsep.join([bindir, os.environ.get("PATH", "")])
    return ws


HISTORY = (
    (38, "Payments: gatewayReference column (expand-only migration)"),
    (34, "Payments: record the gateway reference on capture"),
    (31, "Reconciliation: reconciliation status on payments"),
    (27, "Reconciliation: POST /api/payments/reconcile"),
    (22, "Reconciliation: nightly matching of bank files"),
    (19, "Search: index products by category"),
    (15, "CA verification: accept ICAI numbers with a branch suffix"),
    (12, "Smoke: a reconciliation flow"),
    (9, "Docs: reconciliation runbook"),
    (6, "Payments: retry the gateway capture once on a timeout"),
    (4, "Deps: bump the HTTP client"),
)
"""The changes merged since 1.1.5, with how many hours before the demo each was begun:
the release facts read them from git, and the lead time is measured from them."""
RELEASED_1_1_5_H = 6 * 24
"""1.1.5 was tagged six days before the demo."""


def git_repository(ws: Workspace) -> None:
    """The workspace is a git repository with an ``origin`` to push release tags to, and a
    history the metrics can read: 1.1.5 tagged six days ago, then the changes merged since
    (squash merges, begun 38 to 4 hours before the demo), so the releases the demo deploys
    have real changes and the lead time rests on enough of them to be graded."""
    origin = ws.root / ".demo-origin.git"
    ignore = ws.root / ".gitignore"
    ignore.write_text(
        (ignore.read_text() if ignore.exists() else "") + "\n.demo-origin.git/\ndata/\n.releasegate/\n"
    )
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "releasegate demo",
        "GIT_AUTHOR_EMAIL": "demo@camarketplace.test",
        "GIT_COMMITTER_NAME": "releasegate demo",
        "GIT_COMMITTER_EMAIL": "demo@camarketplace.test",
    }
    now = int(time.time())

    def at(hours_ago: float) -> dict[str, str]:
        stamp = f"@{now - int(hours_ago * 3600)} +0000"
        return {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}

    steps: list[tuple[list[str], dict[str, str]]] = [
        (["git", "init", "-q", "--bare", str(origin)], {}),
        (["git", "init", "-q", "-b", "main"], {}),
        (["git", "config", "user.name", "releasegate demo"], {}),
        (["git", "config", "user.email", "demo@camarketplace.test"], {}),
        (["git", "add", "-A"], {}),
        (["git", "commit", "-q", "-m", "CA Marketplace 1.1.5"], at(RELEASED_1_1_5_H)),
        (["git", "tag", "v1.1.5"], {}),
    ]
    # the example ships the tree as it is today: the changes since 1.1.5 are its history
    steps += [
        (["git", "commit", "-q", "--allow-empty", "-m", subject], at(hours))
        for hours, subject in HISTORY
    ]
    steps += [
        (["git", "remote", "add", "origin", str(origin)], {}),
        (["git", "push", "-q", "origin", "main", "v1.1.5"], {}),
    ]
    for argv, dated in steps:
        done = subprocess.run(argv, cwd=ws.root, env={**env, **dated}, capture_output=True, text=True)
        if done.returncode != 0:
            raise UsageError(f"demo workspace: {' '.join(argv)} failed: {done.stderr.strip()}")


def adapt_config(ws: Workspace) -> None:
    from ruamel.yaml import YAML

    yaml = YAML()  # round trip: comments and order are kept
    data = yaml.load(ws.config.read_text(encoding="utf-8"))
    envs = data["environments"]
    for name, env in envs.items():
        port = free_port()
        ws.ports[name] = port
        old = str(env.get("url", ""))
        env["url"] = f"http://127.0.0.1:{port}"
        target = env.get("target") or {}
        options = target.get("with") or {}
        if "port" in options:
            options["port"] = port
        ws.changes.append(f"{name} listens on 127.0.0.1:{port} (the example says {old or 'nothing'})")
    soak = envs.get("production", {}).get("soak")
    if soak is not None:
        before = ", ".join(f"{k} {v}" for k, v in soak.items() if k in ("normal", "major"))
        for kind in list(soak):
            if kind in ("normal", "major"):
                soak[kind] = f"{DEMO_SOAK_S}s"
        ws.changes.append(f"production soak shortened to {DEMO_SOAK_S}s for the demo (the example says {before})")
    _shorten_verification(ws, envs)
    _hotfix_smoke(ws, envs.get("staging", {}))
    with ws.config.open("w", encoding="utf-8") as fh:
        yaml.dump(data, fh)


def _shorten_verification(ws: Workspace, envs: dict[str, Any]) -> None:
    """Verify stages of seconds, not minutes: the demo must end while someone watches."""
    for name, env in envs.items():
        stages = env.get("verify") or []
        if not stages:
            continue
        before = ", ".join(f"{s['stage']} {s['for']}" for s in stages)
        for stage in stages:
            stage.update(DEMO_STAGE)
            stage.setdefault("with", {}).update(DEMO_PROBE)
        ws.changes.append(
            f"{name} verify stages shortened to {DEMO_STAGE['for']} each, judged every "
            f"{DEMO_STAGE['every']}, a late probe tolerated, for the demo (the example says {before})"
        )


def _hotfix_smoke(ws: Workspace, staging: dict[str, Any]) -> None:
    """On the emergency path staging's smoke step runs every flow but ``payment-upi``, so
    that the story shows verification (not the smoke test) catching the bad 1.2.1."""
    from ruamel.yaml import YAML

    steps = staging.get("deploy") or []
    smoke = next((s for s in steps if s.get("id") == "smoke"), None)
    if smoke is None:
        return
    shutil.copytree(ws.root / "smoke", ws.root / HOTFIX_SMOKE)
    yaml = YAML()
    payments = ws.root / HOTFIX_SMOKE / "payments.yaml"
    flows = yaml.load(payments.read_text(encoding="utf-8"))
    kept = [f for f in flows if f.get("name") != "payment-upi"]
    with payments.open("w", encoding="utf-8") as fh:
        yaml.dump(kept, fh)
    hotfix = {k: v for k, v in smoke.items() if k != "checklist"}
    hotfix.update({"id": "smoke-hotfix", "if": "emergency", "with": {"flows": f"{HOTFIX_SMOKE}/"}})
    smoke["if"] = "not emergency"
    steps.insert(steps.index(smoke) + 1, hotfix)
    ws.changes.append(
        "staging's smoke test skips its payment-upi flow on the emergency path, so that "
        "verification is what catches the bad 1.2.1 (the example runs every flow)"
    )
