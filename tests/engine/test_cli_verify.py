"""Verification in the deploy, end to end: the real CLI, a real service in its own
process answering over loopback, the probe measuring it, a real store."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.test_cli_deploy import RG, rg, write_config

SERVICE = Path(__file__).with_name("half_errors_service.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def service(tmp_path: Path) -> Iterator[str]:
    """The service, started before any deploy (the target only switches its version)."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, str(SERVICE), str(port), str(tmp_path / "live.txt")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: _answers(url))
        yield url
    finally:
        proc.kill()
        proc.wait()


def _config(tmp_path: Path, url: str, *, for_: str = "3s", every: str = "1s", allowed: int = 0) -> None:
    write_config(
        tmp_path,
        f"  staging:\n    url: {url}\n"
        "    target:\n      uses: command\n      with:\n"
        '        deploy: [sh, -c, "echo {version} > live.txt"]\n'
        '        rollback: [sh, -c, "echo {version} > live.txt"]\n'
        "        current: [cat, live.txt]\n"
        "    deploy:\n      - {id: release, uses: target}\n"
        "    verify:\n"
        f"      - {{stage: immediate, for: {for_}, every: {every}, failures_allowed: {allowed},\n"
        '         with: {rate: 40}, check: {error_rate: "< 1%", p95: "< 500ms"}}\n',
    )


def test_a_service_answering_500_to_half_its_requests_is_rolled_back_by_metrics(
    tmp_path: Path, service: str
) -> None:
    _config(tmp_path, service)
    good = rg(tmp_path, "deploy", "staging", "1.0")
    assert good.returncode == 0, good.stdout + good.stderr

    bad = rg(tmp_path, "deploy", "staging", "2.0")
    assert bad.returncode == 5, bad.stdout + bad.stderr
    assert (tmp_path / "live.txt").read_text().strip() == "1.0"
    finished = [line for line in bad.stdout.splitlines() if line.startswith("deployment 2:")]
    assert finished, bad.stdout
    assert finished[-1].startswith("deployment 2: rolled_back — verification failed: stage immediate, interval 1")
    assert "error_rate 50%" in finished[-1]
    assert "baseline 1.0 (deployment 1)" in finished[-1]

    shown = json.loads(rg(tmp_path, "show", "2", "--format", "json").stdout)
    assert shown["deployment"]["status"] == "rolled_back"
    assert rg(tmp_path, "audit", "verify").returncode == 0


def _kill_after_first_interval(tmp_path: Path, version: str) -> None:
    proc = subprocess.Popen(
        [*RG, "--json", "deploy", "staging", version], cwd=tmp_path,
        env={**os.environ, "RELEASEGATE_USER": "alice"}, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True, start_new_session=True,
    )
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if json.loads(line)["event"] == "verify.progress":
                break
        else:
            raise AssertionError("the deploy ended before verifying")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()


@pytest.mark.parametrize(("version", "code", "status"), [("1.5", 0, "succeeded"), ("2.0", 5, "rolled_back")])
def test_a_deploy_killed_while_verifying_is_resumed_from_its_samples(
    tmp_path: Path, service: str, version: str, code: int, status: str
) -> None:
    _config(tmp_path, service, for_="8s", every="2s", allowed=1)
    assert rg(tmp_path, "deploy", "staging", "1.0").returncode == 0
    _kill_after_first_interval(tmp_path, version)
    assert json.loads(rg(tmp_path, "--json", "history").stdout)[0]["status"] == "running"

    resumed = rg(tmp_path, "--json", "resume")
    assert resumed.returncode == code, resumed.stdout + resumed.stderr
    events = [json.loads(line) for line in resumed.stdout.splitlines()]
    progress = [e for e in events if e["event"] == "verify.progress"]
    assert progress[0]["replayed"] is True  # the interval measured before the kill counts
    assert events[-1]["status"] == status
    history = json.loads(rg(tmp_path, "--json", "history").stdout)
    assert (history[0]["version"], history[0]["status"]) == (version, status)
    assert (tmp_path / "live.txt").read_text().strip() == ("1.0" if code else version)
    assert rg(tmp_path, "audit", "verify").returncode == 0
