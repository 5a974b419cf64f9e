"""`releasegate demo` tells the whole story on the real example and leaves nothing running."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest


def _our_processes(workspace: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if workspace in cmdline:
            found.append(f"{proc.name}: {cmdline}")
    return found


@pytest.mark.slow
def test_demo_runs_the_story_end_to_end_and_cleans_up(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "200", "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "releasegate", "demo"],
        capture_output=True, text=True, timeout=400, env=env, cwd=tmp_path,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    workspace = re.search(r"Workspace: (\S+)", out)
    assert workspace is not None
    # the story, in order
    for line in (
        "deployment 1: 1.1.5 recorded as live in staging (adopted: ",  # what ran before
        "staging: 1.1.5 started",  # brought up without a deployment (target start)
        "deployment 3: succeeded",  # staging 1.2.0 with all gates
        "every role has signed",
        "deployment 4: succeeded",  # production 1.2.0
        "staging verify stages shortened to 9s each",  # said so, as the soak is
        "verify performance: pass",  # 1.2.0 passes its stages
        "smoke-hotfix: succeeded — 8 flows passed",  # the hotfix's smoke ran, without UPI
        "deployment 5: rolled_back — ",  # 1.2.1 ...
        "chart of deployment 5 written to ",
        "chain intact",
        # the checklist's messages are notify steps through notify: (apprise), and the
        # customers' updates statuspage steps, all arriving at the local Slack and Statuspage
        "notify-team: succeeded — told #deployments, #qa: 🚀 Deploying 1.2.0 to staging",
        "notify-internal: succeeded — told #announcements: 🚀 Deploying 1.2.0 to production",
        "slack #product: ✅ 1.2.0 is live on production — Deployment #4. Changes:",
        "(to subscribers): Version 1.2.0 of CA Marketplace is live. What changes for you: — "
        "- Payment reconciliation",
        "deployment-announcement: succeeded — told #announcements: ✅ Production Deployment Complete",
        "slack #announcements: ✅ Production Deployment Complete — Version: v1.2.0",
        "(completed): Deployment of 1.2.0 to production is complete.",
    ):
        assert line in out, line
    # ... rolled back by its metrics against 1.2.0's, named in the record
    caught = re.search(
        r"deployment 5: rolled_back — (rollback\.when trigger|verification failed): stage "
        r"performance, interval \d .*(p95|error_rate).*; baseline 1\.2\.0 \(deployment 3\)",
        out,
    )
    assert caught is not None, out[-4000:]
    # where policy refuses production at this hour, the demo breaks glass as an admin, on record
    if "blocked: production: deployment blocked by policy" in out:
        assert "--override" in out
        assert "* **override** of " in out
    assert "demo_override" not in out
    # zero failed requests while production swapped 1.1.5 → 1.2.0, and while staging swapped
    # to the bad 1.2.1 and was rolled back to 1.2.0
    traffic = re.findall(r"(production|staging): (\d+) requests during the swaps, (\d+) failed", out)
    assert [env for env, _, _ in traffic] == ["production", "staging"]
    for _env, sent, failed in traffic:
        assert int(sent) > 100
        assert failed == "0"
    assert _our_processes(workspace.group(1)) == []
    # the ending: what notify: told the team, the figures and the announcement, from the records
    ending = out[out.index("8. What the records say"):]
    assert re.search(r"slack #deployments: ↩️ Rolled back: 1\.2\.1 to staging — Deployment #5 was rolled "
                     r"back: (rollback\.when trigger|verification failed)", ending), ending[:3000]
    # a handful of runs: figures beside their targets, none graded (metrics.min_n is 10)
    assert re.search(r"Success rate\s+\d+\.\d%\s+> 95%\s+not enough data \(n=\d\)", ending)
    assert re.search(r"Change failure rate\s+\d+\.\d%\s+< 10%", ending)
    assert "✅ Production Deployment Complete" in ending
    assert "Version: v1.2.0" in ending
    assert "Downtime: None (zero-downtime deployment)" in ending
