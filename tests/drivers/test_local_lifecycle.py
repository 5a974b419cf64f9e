"""``releasegate target start|stop|restart|status|systemd-unit`` on a real local target:
real CLI processes, a real supervisor, the unit's own command lines run the way systemd
runs them (a socket passed at fd 3 with LISTEN_FDS, READY=1 on NOTIFY_SOCKET)."""

from __future__ import annotations

import configparser
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_local import APP, _alive, _free_port, _wait_gone

from releasegate.drivers.targets import local_control

RG = [sys.executable, "-m", "releasegate", "--as", "ana"]


class Workspace:
    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.state_dir = root / "state"

    def rg(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*RG, *args], cwd=self.root, capture_output=True, text=True, timeout=timeout
        )

    def version(self) -> str:
        return str(httpx.get(self.url + "/monitoring/version", timeout=10).json()["version"])

    def status(self) -> tuple[int, dict[str, object]]:
        done = self.rg("--json", "target", "status", "test")
        assert done.returncode in (0, 1), done.stderr
        return done.returncode, json.loads(done.stdout)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    for version in ("1.0.0", "2.0.0"):
        (tmp_path / "app" / "versions" / version).mkdir(parents=True)
        (tmp_path / "app" / "versions" / version / "app.py").write_text(APP.read_text())
    port = _free_port()
    (tmp_path / "releasegate.yaml").write_text(
        "project: shop\nenvironments:\n  test:\n"
        f"    url: http://127.0.0.1:{port}\n"
        "    target:\n      uses: local\n      with: {app: app, port: " + str(port) + ", "
        "env: {APP_VERSION: '{version}'}, health_timeout: 20s, quiesce: 1s, drain_timeout: 5s, "
        "state_dir: state}\n"
        "    deploy:\n      - {id: release, uses: target}\n"
    )
    found = Workspace(tmp_path, port)
    yield found
    status = local_control.read_status(found.state_dir)
    if status is not None:
        pids = [status.pid, *(int(p["pid"]) for p in status.processes)]
        os.kill(status.pid, signal.SIGTERM)
        for pid in _wait_gone(pids):
            os.kill(pid, signal.SIGKILL)


def test_status_restart_stop_and_start_through_the_cli(ws: Workspace) -> None:
    deployed = ws.rg("deploy", "test", "1.0.0", "--yes")
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    code, status = ws.status()
    assert code == 0
    assert status["running"] is True
    assert (status["serving"], status["recorded"], status["mismatch"]) == ("1.0.0", "1.0.0", None)
    assert status["workers"] == 1
    first_pid = status["pid"]
    text = ws.rg("target", "status", "test").stdout
    assert "serving 1.0.0" in text
    assert "recorded live: 1.0.0" in text
    # a healthy version runs on every CPU (it booted on all but one: local_cpus)
    every = ",".join(map(str, sorted(os.sched_getaffinity(0))))
    assert f"1.0.0 live on CPUs {every}" in text

    # someone swaps the target by hand: status exits 1 and says what differs
    swapped = subprocess.run(
        [sys.executable, "-c", _SWAP_BY_HAND, str(ws.root), str(ws.port)],
        capture_output=True, text=True, timeout=120,
    )
    assert swapped.returncode == 0, swapped.stderr
    code, status = ws.status()
    assert code == 1
    assert status["serving"] == "2.0.0"
    assert str(status["mismatch"]).startswith("the target serves 2.0.0 but the record says 1.0.0")

    restarted = ws.rg("target", "restart", "test")
    assert restarted.returncode == 0, restarted.stderr
    assert "1.0.0 restarted" in restarted.stdout
    code, status = ws.status()
    assert code == 0
    assert status["serving"] == "1.0.0"
    assert status["pid"] != first_pid
    assert ws.version() == "1.0.0"

    assert ws.rg("target", "stop", "test").returncode == 0
    code, status = ws.status()
    assert code == 1
    assert status["running"] is False
    assert status["recorded"] == "1.0.0"  # the record is unchanged
    assert "target start test" in str(status["mismatch"])
    with pytest.raises(httpx.ConnectError):
        ws.version()

    assert ws.rg("target", "stop", "test").returncode == 0  # stopping twice is fine
    # restart of a stopped target (after a reboot) starts it
    restarted = ws.rg("target", "restart", "test")
    assert restarted.returncode == 0, restarted.stderr
    assert ws.version() == "1.0.0"
    # start on a running target: fresh processes of the same version
    before = ws.status()[1]["processes"]
    assert ws.rg("target", "start", "test").returncode == 0
    after = ws.status()[1]["processes"]
    assert ws.version() == "1.0.0"
    assert {p["pid"] for p in before}.isdisjoint(p["pid"] for p in after)  # type: ignore[union-attr]


_SWAP_BY_HAND = """
import asyncio, sys
from pathlib import Path
from releasegate.drivers.api import Release
from releasegate.drivers.targets.local import LocalOptions, LocalTarget
from releasegate.testing import make_context
root, port = Path(sys.argv[1]), int(sys.argv[2])
opts = LocalOptions.model_validate({"app": "app", "port": port, "state_dir": "state",
    "env": {"APP_VERSION": "{version}"}, "quiesce": "1s", "drain_timeout": "5s"})
ctx = make_context(release=Release(environment="test", version="2.0.0"), workdir=root)
result = asyncio.run(LocalTarget().deploy(opts, ctx))
sys.exit(0 if result.ok else result.summary)
"""


# -- systemd -----------------------------------------------------------------------------

# what systemd does between fork and exec for a socket-activated Type=notify service
_ACTIVATE = (
    "import os, sys; fd = int(sys.argv[1]); os.dup2(fd, 3); os.close(fd); "
    "os.environ.update(LISTEN_FDS='1', LISTEN_PID=str(os.getpid())); "
    "os.execv(sys.argv[2], sys.argv[2:])"
)


def _unit(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text())
    return parser


def _argv(line: str) -> list[str]:
    return [w.replace("$$", "$").replace("%%", "%") for w in shlex.split(line)]


def _start_like_systemd(
    argv: list[str], listen: socket.socket, cwd: str, tmp: Path
) -> subprocess.Popen[bytes]:
    notify_path = tmp / f"notify-{time.monotonic_ns()}.sock"
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(notify_path))
    env = {**os.environ, "NOTIFY_SOCKET": str(notify_path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _ACTIVATE, str(listen.fileno()), *argv],
        cwd=cwd, env=env, pass_fds=(listen.fileno(),), stdin=subprocess.DEVNULL,
    )
    notify.settimeout(60)
    try:
        message = notify.recv(4096).decode()
    finally:
        notify.close()
    assert "READY=1" in message
    assert f"MAINPID={proc.pid}" in message
    return proc


def test_the_systemd_units_start_the_recorded_version_on_the_activated_socket(
    ws: Workspace, tmp_path: Path
) -> None:
    assert ws.rg("deploy", "test", "1.0.0", "--yes").returncode == 0
    assert ws.rg("target", "stop", "test").returncode == 0
    out = tmp_path / "units" / "shop-test.service"
    out.parent.mkdir()
    written = ws.rg("target", "systemd-unit", "test", "--out", str(out))
    assert written.returncode == 0, written.stderr
    socket_unit = out.with_suffix(".socket")
    if shutil.which("systemd-analyze"):
        verify = subprocess.run(
            ["systemd-analyze", "verify", "--man=no", str(out), str(socket_unit)],
            capture_output=True, text=True, timeout=60,
        )
        assert verify.returncode == 0, verify.stdout + verify.stderr
    service = _unit(out)["Service"]
    sock = _unit(socket_unit)["Socket"]
    assert _unit(out)["Unit"]["Wants"] == "shop-test.socket"
    assert service["Type"] == "notify"
    assert sock["ListenStream"] == f"127.0.0.1:{ws.port}"
    host, port = sock["ListenStream"].rsplit(":", 1)

    # systemd's side: the socket unit's socket, the service's commands
    listen = socket.socket()
    listen.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listen.bind((host, int(port)))
    listen.listen(128)
    supervisor = _start_like_systemd(
        _argv(service["ExecStart"]), listen, service["WorkingDirectory"], tmp_path
    )
    try:
        post = subprocess.run(
            _argv(service["ExecStartPost"]), cwd=service["WorkingDirectory"],
            capture_output=True, text=True, timeout=120,
        )
        assert post.returncode == 0, post.stdout + post.stderr
        assert ws.version() == "1.0.0"
        code, status = ws.status()
        assert (code, status["pid"]) == (0, supervisor.pid)

        # `systemctl restart`: the supervisor goes, the socket stays; a request sent
        # meanwhile waits in the socket's queue and is answered by the next supervisor
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=30) == 0
        answers: list[str] = []
        waiting = threading.Thread(target=lambda: answers.append(ws.version()))
        waiting.start()
        supervisor = _start_like_systemd(
            _argv(service["ExecStart"]), listen, service["WorkingDirectory"], tmp_path
        )
        post = subprocess.run(
            _argv(service["ExecStartPost"]), cwd=service["WorkingDirectory"],
            capture_output=True, text=True, timeout=120,
        )
        assert post.returncode == 0, post.stderr
        waiting.join(timeout=60)
        assert answers == ["1.0.0"]
    finally:
        listen.close()
        status_now = local_control.read_status(ws.state_dir)
        pids = [int(p["pid"]) for p in status_now.processes] if status_now else []
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(timeout=30)
        assert not [p for p in _wait_gone(pids) if _alive(p)]
