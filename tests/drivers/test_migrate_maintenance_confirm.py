"""``migrate`` (run, verify, undo per mode), ``maintenance`` and ``confirm``."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from httpapp import AppServer, Request
from pydantic import ValidationError

from releasegate.drivers.checks.confirm import Confirm
from releasegate.drivers.checks.maintenance import Maintenance
from releasegate.drivers.checks.migrate import RESTORE_NEEDED, Migrate
from releasegate.testing import FakeFacts, run_driver

# A "schema" is a file listing applied migrations; status passes when 002 is in it.
UP = ["sh", "-c", "echo 002 >> schema.txt"]
DOWN = ["sh", "-c", "grep -v 002 schema.txt > s.tmp; mv s.tmp schema.txt"]
STATUS = ["grep", "-q", "002", "schema.txt"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "schema.txt").write_text("001\n")
    return tmp_path


def test_reversible_migration_runs_verifies_and_reverts(project: Path) -> None:
    options = {"run": UP, "down": DOWN, "status": STATUS}
    before = run_driver(Migrate(), options, action="verify", workdir=project)
    assert not before.ok
    assert run_driver(Migrate(), options, workdir=project).ok
    assert (project / "schema.txt").read_text() == "001\n002\n"
    verified = run_driver(Migrate(), options, action="verify", workdir=project)
    assert verified.ok
    assert verified.summary == "migration status check succeeded"
    undone = run_driver(Migrate(), options, action="undo", workdir=project)
    assert undone.ok
    assert undone.summary == "migration down succeeded"
    assert (project / "schema.txt").read_text() == "001\n"


def test_expand_only_is_kept_on_undo(project: Path) -> None:
    result = run_driver(Migrate(), {"run": UP, "mode": "expand"}, action="undo", workdir=project)
    assert result.ok
    assert result.summary == "kept (expand-only): the previous version runs on the new schema"


def test_irreversible_undo_asks_for_a_restore(project: Path) -> None:
    result = run_driver(Migrate(), {"run": UP}, action="undo", workdir=project)
    assert not result.ok
    assert result.summary == RESTORE_NEEDED
    assert result.evidence["action"] == "restore-needed"


def test_failed_migration_says_why(project: Path) -> None:
    result = run_driver(
        Migrate(), {"run": ["sh", "-c", "echo 'relation users already exists' >&2; exit 1"], "mode": "expand"},
        workdir=project,
    )
    assert not result.ok
    assert result.summary == "migration failed: exited with status 1 (relation users already exists)"


def test_verify_without_status_command_cannot_tell(project: Path) -> None:
    result = run_driver(Migrate(), {"run": UP, "mode": "expand"}, action="verify", workdir=project)
    assert not result.ok
    assert "no status command" in result.summary


def test_migrate_option_consistency() -> None:
    with pytest.raises(ValidationError, match="mode reversible needs a down command"):
        run_driver(Migrate(), {"run": UP, "mode": "reversible"})
    with pytest.raises(ValidationError, match="mode expand cannot have a down command"):
        run_driver(Migrate(), {"run": UP, "down": DOWN, "mode": "expand"})


def test_maintenance_by_command_and_undo(tmp_path: Path) -> None:
    options = {"enable": ["touch", "MAINTENANCE"], "disable": ["rm", "-f", "MAINTENANCE"]}
    on = run_driver(Maintenance(), options, workdir=tmp_path)
    assert on.summary == "maintenance mode on"
    assert (tmp_path / "MAINTENANCE").exists()
    off = run_driver(Maintenance(), options, action="undo", workdir=tmp_path)
    assert off.summary == "maintenance mode off"
    assert not (tmp_path / "MAINTENANCE").exists()


def test_maintenance_by_http(app_server: AppServer) -> None:
    state: dict[str, object] = {}

    def switch(req: Request) -> tuple[int, object]:
        state.update(req.json())  # type: ignore[arg-type]
        return 204, ""

    app_server.routes[("POST", "/admin/maintenance")] = switch
    assert run_driver(Maintenance(), {"url": "/admin/maintenance"}, url=app_server.url).ok
    assert state == {"enabled": True}
    assert run_driver(Maintenance(), {"url": "/admin/maintenance"}, action="undo", url=app_server.url).ok
    assert state == {"enabled": False}


def test_maintenance_http_refused(refused_url: str) -> None:
    result = run_driver(Maintenance(), {"url": "/admin/maintenance"}, url=refused_url)
    assert not result.ok
    assert result.summary == f"could not turn maintenance mode on: POST {refused_url}/admin/maintenance: connection refused"


def test_maintenance_needs_one_way() -> None:
    with pytest.raises(ValidationError, match="give either enable/disable commands or a url"):
        run_driver(Maintenance(), {})


def test_confirm_waits_for_a_signature() -> None:
    facts = FakeFacts(deployment_id=41)
    lines: list[str] = []
    timer = threading.Timer(0.3, facts.confirm, args=("prod.team-assembled", "asha"))
    timer.start()
    started = time.monotonic()
    result = run_driver(
        Confirm(),
        {"item": "prod.team-assembled", "by": ["devops", "on-call"], "poll": "50ms", "timeout": "5s"},
        facts=facts,
        progress=lines.append,
    )
    timer.join()
    assert result.ok
    assert result.summary == "prod.team-assembled signed by asha"
    assert 0.25 < time.monotonic() - started < 2
    assert lines == [
        "waiting for devops or on-call to sign prod.team-assembled: "
        "releasegate confirm 41 prod.team-assembled"
    ]


def test_confirm_times_out() -> None:
    result = run_driver(Confirm(), {"item": "qa.signoff", "by": "qa", "timeout": "200ms", "poll": "50ms"})
    assert not result.ok
    assert result.summary == "qa.signoff was not signed within 200ms (waiting for qa)"
