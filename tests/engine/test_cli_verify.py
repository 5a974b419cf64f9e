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
        # a busy machine may delay the probe itself: that must not pause these tests
        "         inconclusive_limit: 1, confirm_within: 20s,\n"
        "         with: {rate: 40, slip_tolerance: 250ms, max_slip: 50},\n"
        '         check: {error_rate: "< 1%", p95: "< 500ms"}}\n',
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


def test_verify_on_demand_reports_and_rolls_back_only_when_asked(tmp_path: Path, service: str) -> None:
    _config(tmp_path, service)
    assert rg(tmp_path, "deploy", "staging", "1.0").returncode == 0
    assert rg(tmp_path, "deploy", "staging", "1.1").returncode == 0
    ok = rg(tmp_path, "verify", "staging", "--stage", "immediate")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "verify staging (1.1): pass" in ok.stdout

    (tmp_path / "live.txt").write_text("2.0\n")  # the live service went bad on its own
    seen = rg(tmp_path, "--json", "verify", "staging")
    assert seen.returncode == 1, seen.stdout + seen.stderr
    report = json.loads(seen.stdout.splitlines()[-1])
    assert (report["verdict"], report["rollback"]) == ("fail", None)
    assert "error_rate 50%" in report["detail"]
    assert (tmp_path / "live.txt").read_text().strip() == "2.0"  # not asked to roll back

    undone = rg(tmp_path, "verify", "staging", "--rollback")
    assert undone.returncode == 5, undone.stdout + undone.stderr
    assert (tmp_path / "live.txt").read_text().strip() == "1.0"
    history = json.loads(rg(tmp_path, "--json", "history").stdout)
    assert (history[0]["kind"], history[0]["status"]) == ("rollback", "succeeded")
    rolled = json.loads(rg(tmp_path, "show", str(history[0]["id"]), "--format", "json").stdout)
    assert "releasegate verify: verification failed" in rolled["deployment"]["detail"]

    unknown = rg(tmp_path, "verify", "staging", "--stage", "soak")
    assert unknown.returncode == 2
    assert "no such verify stage (known: immediate)" in unknown.stderr


@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_show_charts_the_recorded_samples(tmp_path: Path, service: str, suffix: str) -> None:
    _config(tmp_path, service)
    assert rg(tmp_path, "deploy", "staging", "1.0").returncode == 0
    assert rg(tmp_path, "deploy", "staging", "2.0").returncode == 5
    out = tmp_path / f"chart{suffix}"
    shown = rg(tmp_path, "show", "2", "--format", "md", "--chart", str(out))
    assert shown.returncode == 0, shown.stderr
    assert f"chart of deployment 2 written to {out}" in shown.stderr
    assert "rolled_back" in shown.stdout
    head = out.read_bytes()[:200]
    assert head.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in out.read_bytes()
    bad = rg(tmp_path, "show", "2", "--chart", str(tmp_path / "chart.gif"))
    assert bad.returncode == 2


@pytest.mark.parametrize(("confirm", "code", "status"), [(True, 0, "succeeded"), (False, 5, "rolled_back")])
def test_a_paused_stage_waits_for_confirm_then_goes_on_or_rolls_back(
    tmp_path: Path, service: str, confirm: bool, code: int, status: str
) -> None:
    _config(tmp_path, service)
    config = (tmp_path / "releasegate.yaml").read_text()
    within = "30s" if confirm else "2s"
    config = config.replace("failures_allowed: 0,", "failures_allowed: 0, on_fail: pause, ")
    config = config.replace("confirm_within: 20s", f"confirm_within: {within}")
    (tmp_path / "releasegate.yaml").write_text(config)
    assert rg(tmp_path, "deploy", "staging", "1.0").returncode == 0
    proc = subprocess.Popen(
        [*RG, "--json", "deploy", "staging", "2.0"], cwd=tmp_path,
        env={**os.environ, "RELEASEGATE_USER": "alice"}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            event = json.loads(line)
            if event["event"] == "step.output" and event["step"] == "verify.immediate":
                assert "releasegate confirm 2 verify.immediate" in event["line"]
                break
        if confirm:
            signed = rg(tmp_path, "confirm", "2", "verify.immediate", user="bob")
            assert signed.returncode == 0, signed.stderr
            assert "verify.immediate confirmed by bob" in signed.stdout
        rest, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == code
    assert json.loads(rest.splitlines()[-1])["status"] == status
    assert (tmp_path / "live.txt").read_text().strip() == ("2.0" if confirm else "1.0")
    assert rg(tmp_path, "audit", "verify").returncode == 0
