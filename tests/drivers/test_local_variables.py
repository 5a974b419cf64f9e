"""docs/local-target.md lists every ``RELEASEGATE_*`` variable that a deployment's steps and
the local target's server processes really get: a real deployment dumps both."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from test_local import APP, ROOT, _free_port

from releasegate.service import deployments, targets
from releasegate.service.workspace import Workspace

DUMP = (
    "import json, os, sys; json.dump({k: v for k, v in os.environ.items() "
    "if k.startswith('RELEASEGATE_')}, open(sys.argv[1], 'w'))"
)
APP_DUMP = (
    "\nimport json as _j, os as _o\n"
    "_j.dump({k: v for k, v in _o.environ.items() if k.startswith('RELEASEGATE_')}, "
    "open(_o.environ['DUMP_TO'], 'w'))\n"
)


def _documented() -> set[str]:
    text = (ROOT / "docs" / "local-target.md").read_text()
    section = text.split("\n## Variables\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(RELEASEGATE_[A-Z_]+)` \|", section, re.M))


def test_every_variable_set_is_documented_and_every_documented_one_is_set(tmp_path: Path) -> None:
    (tmp_path / "app" / "versions" / "1.0.0").mkdir(parents=True)
    (tmp_path / "app" / "versions" / "1.0.0" / "app.py").write_text(APP.read_text() + APP_DUMP)
    port = _free_port()
    steps_dump, app_dump = tmp_path / "step.json", tmp_path / "app.json"
    (tmp_path / "releasegate.yaml").write_text(
        "project: t\nenvironments:\n  test:\n"
        f"    url: http://127.0.0.1:{port}\n"
        "    target:\n      uses: local\n      with: {app: app, port: " + str(port) + ", "
        f"env: {{DUMP_TO: '{app_dump}'}}, health_timeout: 20s, quiesce: 1s, drain_timeout: 5s, "
        "state_dir: state}\n"
        "    deploy:\n      - {id: release, uses: target}\n"
        f"      - {{id: dump, uses: command, needs: [release], with: {{run: {json.dumps([sys.executable, '-c', DUMP, str(steps_dump)])}}}}}\n"
    )
    ws = Workspace(tmp_path / "releasegate.yaml")
    actor = ws.actor(requested="ana", env_user=None)
    try:
        outcome = deployments.deploy(ws, actor, "test", "1.0.0")
        assert outcome.status == "succeeded", outcome.detail
        step_vars = set(json.loads(steps_dump.read_text()))
        app_vars = set(json.loads(app_dump.read_text()))
    finally:
        targets.stop(ws, actor, "test")
        ws.close()
    assert "RELEASEGATE_FENCE_TOKEN" in step_vars
    assert "RELEASEGATE_CONTROL_FD" in app_vars
    assert _documented() == step_vars | app_vars
