"""``releasegate metrics``, ``report``, ``defect add``, ``show --announcement`` and
``backups`` as a user runs them: real processes over a real workspace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CONFIG = """\
project: shop
metrics: {min_n: 2}
environments:
  production:
    url: https://shop.example
    target:
      uses: command
      with:
        deploy: [sh, -c, "echo {version} > live.txt"]
        rollback: [sh, -c, "echo {version} > live.txt"]
        current: [cat, live.txt]
    deploy:
      - {id: release, uses: target}
"""


def _rg(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RELEASEGATE_USER": "dave"}
    return subprocess.run([sys.executable, "-m", "releasegate", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_metrics_report_defect_and_announcement_from_real_deployments(tmp_path: Path) -> None:
    (tmp_path / "releasegate.yaml").write_text(CONFIG)
    for version in ("1.0.0", "1.1.0"):
        assert _rg(tmp_path, "deploy", "production", version, "-y").returncode == 0
    added = _rg(tmp_path, "defect", "add", "1", "--kind", "security", "--note", "CVE-1")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "security 1 recorded against deployment 1 by dave"
    bad = _rg(tmp_path, "defect", "add", "1", "--kind", "typo")
    assert bad.returncode == 2
    assert "--kind: 'typo' is not one of" in bad.stderr

    table = _rg(tmp_path, "metrics", "--since", "30d")
    assert table.returncode == 0, table.stderr
    assert table.stdout.startswith("shop · production · ")
    row = next(line for line in table.stdout.splitlines() if line.startswith("Security issues"))
    assert "0.50 per deployment" in row
    assert "missed (target = 0)" in row
    assert "not enough data (n=0)" in next(
        line for line in table.stdout.splitlines() if line.startswith("Lead time"))
    data = json.loads(_rg(tmp_path, "--json", "metrics", "--env", "all").stdout)
    assert data["success_rate"]["n"] == 2
    assert data["scope"]["environment"] is None

    shown = _rg(tmp_path, "show", "2", "--announcement")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[:3] == ["✅ Production Deployment Complete", "", "Version: v1.1.0"]

    out = _rg(tmp_path, "report", "--out", "reports")
    assert out.returncode == 0, out.stderr
    written = tmp_path / out.stdout.strip().removeprefix("report written to ")
    assert written.parent == tmp_path / "reports"
    assert "<svg" in written.read_text()

    listed = _rg(tmp_path, "backups", "list")
    assert (listed.returncode, listed.stdout.strip()) == (0, "no backups in place")
