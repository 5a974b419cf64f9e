"""The local target: real supervisor daemon, real uvicorn processes, real load on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from releasegate.drivers.api import Release, StepContext, StepResult
from releasegate.drivers.targets import local_control, local_releases
from releasegate.drivers.targets.local import LocalOptions, LocalTarget
from releasegate.testing import make_context, run_driver

ROOT = Path(__file__).resolve().parents[2]
APP = Path(__file__).parent / "local_app" / "app.py"
LOADGEN = ROOT / "benchmarks" / "loadgen.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _wait_gone(pids: list[int], timeout: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if _alive(p)]


class Site:
    """A workdir with an app of several versions, and the target's options for it."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.workdir = workdir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.options = LocalOptions.model_validate(
            {
                "app": "app",
                "port": port,
                "env": {"APP_VERSION": "{version}"},
                "health_timeout": "15s",
                "quiesce": "1s",
                "drain_timeout": "5s",
                "keep": 2,
                "state_dir": "state",
            }
        )
        self.target = LocalTarget()
        self.state_dir = workdir / "state"

    def ctx(self, version: str) -> StepContext:
        return make_context(
            release=Release(environment="test", version=version), workdir=self.workdir
        )

    def deploy(self, version: str) -> StepResult:
        return asyncio.run(self.target.deploy(self.options, self.ctx(version)))

    def rollback(self, version: str) -> StepResult:
        return asyncio.run(self.target.rollback(self.options, self.ctx("x"), version))

    def status(self) -> local_control.SupervisorStatus | None:
        return local_control.read_status(self.state_dir)

    def get(self, path: str = "/monitoring/version") -> httpx.Response:
        # generous: behind a load test on a busy 2-core machine, a queue forms (not a failure)
        return httpx.get(self.url + path, timeout=30)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """An app with versions 1.0.0, 2.0.0, 3.0.0 and 'bad' (fails its health check);
    every process the supervisor started is gone afterwards."""
    for version in ("1.0.0", "2.0.0", "3.0.0", "bad"):
        (tmp_path / "app" / "versions" / version).mkdir(parents=True)
        text = APP.read_text()
        if version == "bad":
            text += "\nos.environ['APP_HEALTH'] = 'fail'\n"
        (tmp_path / "app" / "versions" / version / "app.py").write_text(text)
    site = Site(tmp_path, _free_port())
    yield site
    status = site.status()
    if status is not None:
        pids = [status.pid, *(int(p["pid"]) for p in status.processes)]
        os.kill(status.pid, signal.SIGTERM)
        if _wait_gone(pids):
            for pid in pids:
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)


def _load(url: str, out: Path, seconds: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            str(LOADGEN),
            "--url",
            url,
            "--rate",
            "200",
            "--duration",
            str(seconds),
            "--out",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
    )


def test_swap_and_rollback_under_load_fail_no_request(site: Site, tmp_path: Path) -> None:
    assert site.deploy("1.0.0").ok
    out = tmp_path / "load.json"
    load = _load(site.url + "/monitoring/version", out, 9.0)
    try:
        time.sleep(1.0)
        swapped = site.deploy("2.0.0")
        assert swapped.ok, swapped.summary
        assert swapped.evidence["previous"] == "1.0.0"
        time.sleep(0.5)
        back = site.rollback("1.0.0")
        assert back.ok, back.summary
        assert load.wait(timeout=30) == 0
    finally:
        if load.poll() is None:
            load.kill()
            load.wait()
    result = json.loads(out.read_text())
    assert result["summary"]["failed"] == 0, result["summary"]
    assert result["summary"]["requests"] >= 1500
    order = [r[3] for r in result["records"]]
    changes = [v for i, v in enumerate(order) if i == 0 or v != order[i - 1]]
    # keep-alive connections may interleave for a moment around each swap
    assert changes[0] == "1.0.0"
    assert changes[-1] == "1.0.0"
    assert "2.0.0" in changes
    assert asyncio.run(site.target.current(site.options, site.ctx("x"))) == "1.0.0"


def test_status_reports_the_live_version_and_address(site: Site) -> None:
    assert site.status() is None
    site.deploy("1.0.0")
    status = site.status()
    assert status is not None
    assert (status.version, status.address) == ("1.0.0", f"127.0.0.1:{site.port}")
    assert _alive(status.pid)
    assert status.uptime_s >= 0
    assert (site.state_dir / "supervisor.pid").read_text().strip() == str(status.pid)
    assert "listening on" in (site.state_dir / "supervisor.log").read_text()


def test_unhealthy_version_is_not_swapped_in(site: Site) -> None:
    site.deploy("1.0.0")
    result = site.deploy("bad")
    assert not result.ok
    assert result.summary.startswith(
        "version bad failed its health check and was not swapped in (1.0.0 keeps serving): "
        "GET /monitoring/health answered HTTP 500, not 2xx, within 15s"
    )
    assert site.get().json() == {"version": "1.0.0"}
    status = site.status()
    assert status is not None
    assert [p["version"] for p in status.processes] == ["1.0.0"]


def test_maintenance_mode_answers_503_with_retry_after(site: Site) -> None:
    site.deploy("1.0.0")
    asyncio.run(site.target.maintenance(site.options, site.ctx("x"), on=True))
    page = site.get()
    assert page.status_code == 503
    assert page.headers["retry-after"] == "120"
    assert "maintenance" in page.text
    asyncio.run(site.target.maintenance(site.options, site.ctx("x"), on=False))
    assert site.get().json() == {"version": "1.0.0"}


def test_supervisor_survives_the_process_that_started_it(site: Site) -> None:
    script = (
        "import asyncio, sys\n"
        "from releasegate.drivers.api import Release\n"
        "from releasegate.drivers.targets.local import LocalOptions, LocalTarget\n"
        "from releasegate.testing import make_context\n"
        f"opts = LocalOptions.model_validate_json({site.options.model_dump_json()!r})\n"
        f"ctx = make_context(release=Release('test', '2.0.0'), workdir=__import__('pathlib').Path({str(site.workdir)!r}))\n"
        "sys.exit(0 if asyncio.run(LocalTarget().deploy(opts, ctx)).ok else 1)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    status = site.status()
    assert status is not None
    assert status.version == "2.0.0"
    assert site.get().json() == {"version": "2.0.0"}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killing_the_supervisor_leaves_no_process(site: Site, sig: signal.Signals) -> None:
    site.deploy("1.0.0")
    status = site.status()
    assert status is not None
    children = [int(p["pid"]) for p in status.processes]
    assert children
    assert all(_alive(p) for p in children)
    os.kill(status.pid, sig)
    assert _wait_gone([status.pid, *children]) == []
    with pytest.raises(httpx.ConnectError):
        site.get()


def test_only_the_last_versions_stay_installed(site: Site) -> None:
    for version in ("1.0.0", "2.0.0", "3.0.0"):
        assert site.deploy(version).ok
    installed = sorted(p.name for p in (site.state_dir / "releases").iterdir() if p.is_dir())
    assert installed == ["2.0.0", "3.0.0"]
    back = site.rollback("1.0.0")  # reinstalled from the app's versions/ directory
    assert back.ok, back.summary
    assert site.get().json() == {"version": "1.0.0"}


def test_missing_version_directory_is_a_clear_error(tmp_path: Path) -> None:
    from releasegate.errors import DriverError

    with pytest.raises(DriverError, match=r"version 9\.9 is not installed and its directory "):
        local_releases.install(tmp_path / "nope", tmp_path / "releases", "9.9")
    shutil.rmtree(tmp_path / "releases", ignore_errors=True)


@pytest.mark.parametrize("version", ["../../etc", "..", ".", "a/b", "/tmp/x", ""])
def test_a_version_that_is_not_a_plain_name_never_becomes_a_path(
    tmp_path: Path, version: str
) -> None:
    (tmp_path / "app" / "versions").mkdir(parents=True)
    result = run_driver(
        LocalTarget(),
        {"app": "app", "state_dir": "state"},
        workdir=tmp_path,
        release=Release("staging", version),
    )
    assert not result.ok
    assert result.summary == (
        f"local target: version {version!r} is not a plain name: it would lead outside "
        f"{tmp_path / 'state' / 'releases'}"
    )
    assert not (tmp_path / "state").exists()  # no supervisor started, nothing copied


def test_a_crashed_live_version_is_restarted(site: Site) -> None:
    site.deploy("1.0.0")
    status = site.status()
    assert status is not None
    (child,) = [int(p["pid"]) for p in status.processes]
    os.kill(child, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        now = site.status()
        if now and now.version == "1.0.0" and int(now.processes[0]["pid"]) != child:
            break
        time.sleep(0.1)
    assert site.get().json() == {"version": "1.0.0"}
    assert "exited with code -9; restarting it" in (site.state_dir / "supervisor.log").read_text()


def test_a_busy_port_is_a_clear_error(site: Site) -> None:
    from releasegate.errors import DriverError

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", site.port))
        busy.listen()
        with pytest.raises(DriverError) as caught:
            site.deploy("1.0.0")
    assert str(caught.value).startswith(
        f"local target: the supervisor did not start: cannot listen on 127.0.0.1:{site.port}: "
        "Address already in use (log: "
    )
    assert site.status() is None


def test_every_option_is_documented() -> None:
    docs = (ROOT / "docs" / "local-target.md").read_text()
    missing = [
        name
        for name in LocalOptions.model_fields
        if f"| `{name}`" not in docs and f"`{name}`, " not in docs
    ]
    assert missing == []


def test_status_flags_a_target_serving_another_version_than_the_record(site: Site) -> None:
    """Someone swapped the target by hand: `status` says the record and reality differ."""
    from releasegate.service import deployments, records
    from releasegate.service.workspace import Workspace

    (site.workdir / "releasegate.yaml").write_text(
        "project: t\nenvironments:\n  test:\n"
        f"    url: {site.url}\n"
        "    target:\n      uses: local\n      with: {app: app, port: " + str(site.port) + ", "
        "env: {APP_VERSION: '{version}'}, health_timeout: 15s, quiesce: 1s, drain_timeout: 5s, "
        "state_dir: state}\n"
        "    deploy:\n      - {id: release, uses: target}\n"
    )
    ws = Workspace(site.workdir / "releasegate.yaml")
    actor = ws.actor(requested="ana", env_user=None)
    assert deployments.deploy(ws, actor, "test", "1.0.0").status == "succeeded"
    assert records.status(ws, actor, "test").environments[0].attention is None
    assert site.deploy("2.0.0").ok  # outside releasegate
    [row] = records.status(ws, actor, "test").environments
    assert row.attention is not None
    assert row.attention.startswith("the target serves 2.0.0 but the record says 1.0.0 is live in test")
    ws.close()
