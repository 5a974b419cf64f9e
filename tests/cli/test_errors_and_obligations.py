"""The CLI's last-resort error handler, and closing an emergency's obligations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from releasegate.cli.errors import handle
from releasegate.store.api import open_store


def test_unexpected_error_is_one_line_with_the_log_path_and_exit_70(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    def boom() -> int:
        raise RuntimeError("the disk said no")

    assert handle(boom) == 70
    err = capsys.readouterr().err.strip()
    assert err.startswith("internal error: RuntimeError: the disk said no (full traceback in ")
    assert len(err.splitlines()) == 1
    log = Path(err.rsplit("full traceback in ", 1)[1].rstrip(")"))
    assert "Traceback" in log.read_text()
    assert "boom" in log.read_text()


def _rg(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RELEASEGATE_USER": "dave"}
    return subprocess.run([sys.executable, "-m", "releasegate", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def test_obligations_are_listed_until_someone_closes_them(tmp_path: Path) -> None:
    (tmp_path / "releasegate.yaml").write_text("project: t\nenvironments:\n  production: {}\n")
    store = open_store(f"sqlite:///{tmp_path / '.releasegate' / 'state.db'}")
    dep = store.create_deployment(environment="production", version="1.2.1", kind="hotfix",
                                  user="dave", plan={}, emergency=True, reason="payments down")
    store.add_obligation(deployment_id=dep.id, kind="postmortem", text="post-mortem within 24h",
                         due_at=datetime.now(UTC) + timedelta(hours=24))
    store.add_obligation(deployment_id=dep.id, kind="monitor", text="monitor closely for 2h",
                         due_at=datetime.now(UTC) - timedelta(minutes=1))
    store.close()
    listed = _rg(tmp_path, "obligation", "list")
    assert "monitor closely for 2h — OVERDUE" in listed.stdout
    assert "post-mortem within 24h — due" in listed.stdout
    closed = _rg(tmp_path, "obligation", "close", "2", "--note", "watched dashboards")
    assert closed.returncode == 0, closed.stderr
    assert closed.stdout.strip() == "obligation 2 (monitor) closed by dave"
    again = _rg(tmp_path, "obligation", "close", "2")
    assert again.returncode == 2
    assert "obligation 2 was already closed by dave" in again.stderr
    status = json.loads(_rg(tmp_path, "--json", "status").stdout)
    assert [o["text"] for o in status["obligations"]] == ["post-mortem within 24h"]


def test_a_postmortem_is_linked_when_its_obligation_is_closed(tmp_path: Path) -> None:
    (tmp_path / "releasegate.yaml").write_text("project: t\nenvironments:\n  production: {}\n")
    store = open_store(f"sqlite:///{tmp_path / '.releasegate' / 'state.db'}")
    dep = store.create_deployment(environment="production", version="1.2.1", kind="hotfix",
                                  user="erin", plan={}, emergency=True, reason="payments down")
    store.add_obligation(deployment_id=dep.id, kind="postmortem", text="post-mortem within 24h",
                         due_at=datetime.now(UTC) - timedelta(hours=1))
    store.close()
    listed = json.loads(_rg(tmp_path, "--json", "obligation", "list").stdout)
    assert [(o["owner"], o["overdue"]) for o in listed] == [("erin", True)]
    (tmp_path / "notes.txt").write_text("not markdown")
    refused = _rg(tmp_path, "obligation", "close", "1", "--postmortem", "notes.txt")
    assert refused.returncode == 2
    assert "--postmortem: notes.txt is not a markdown file" in refused.stderr
    (tmp_path / "pm.md").write_text("# Payments outage 2026-11-29\n\nRoot cause: a bad index.\n")
    closed = _rg(tmp_path, "--json", "obligation", "close", "1", "--postmortem", "pm.md")
    assert closed.returncode == 0, closed.stderr
    link = json.loads(closed.stdout)["postmortem"]
    assert (link["path"], link["title"]) == ("pm.md", "Payments outage 2026-11-29")
    [done] = json.loads(_rg(tmp_path, "--json", "obligation", "list", "--all").stdout)
    assert f"post-mortem: pm.md (Payments outage 2026-11-29) sha256:{link['sha256']}" in done["note"]
