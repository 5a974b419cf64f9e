"""Real OpenSSH servers (Debian's ``sshd``) on loopback addresses 127.0.0.2, .3, ...: a fleet.

Each host has its own host key, ``authorized_keys``, port and sshd process, all under the
test's directory; the client has its own key and a ``known_hosts`` naming every host's key
(host-key checking is on, as in production). The hosts are this machine, so releasegate's
venv is at the same path on every one of them; each host gets its own releasegate
directory (``<root>/<name>``). A host can be killed (its sshd and the app it runs, SIGKILL),
or re-keyed (a reinstalled machine: known_hosts no longer matches).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import releasegate

SSHD = "/usr/sbin/sshd"
SSHD_MISSING = (
    "sshd is not installed (Debian: apt-get install -y openssh-server; scripts/services.sh "
    "installs it)"
)
SRC = str(Path(releasegate.__file__).resolve().parents[1])
"""The releasegate under test: the hosts' agent must run this tree, not another install."""


def _keygen(path: Path, comment: str) -> str:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True, timeout=30,
    )
    return path.with_suffix(".pub").read_text().strip()


def _free_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def wait_until(condition: Any, *, timeout: float, what: str) -> None:
    """Poll ``condition()`` until true; fail the test naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} within {timeout:g}s")


@dataclass
class FakeHost:
    """One host: an sshd on ``address:ssh_port`` and its releasegate directory ``dir``."""

    name: str
    address: str
    home: Path
    dir: Path
    authorized_keys: Path
    ssh_port: int = 0
    process: subprocess.Popen[bytes] | None = None
    public_key: str = ""

    def start(self) -> None:
        key = self.home / "ssh_host_ed25519_key"
        if not key.exists():
            self.public_key = _keygen(key, self.name)
        self.ssh_port = self.ssh_port or _free_port(self.address)
        config = self.home / "sshd_config"
        config.write_text(
            f"ListenAddress {self.address}:{self.ssh_port}\n"
            f"HostKey {key}\n"
            f"AuthorizedKeysFile {self.authorized_keys}\n"
            "PidFile none\nUsePAM no\nStrictModes no\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
            "Subsystem sftp /usr/lib/openssh/sftp-server\nLogLevel VERBOSE\n"
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
        log = (self.home / "sshd.log").open("ab")
        self.process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

        def listening() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"sshd of {self.name} exited: {(self.home / 'sshd.log').read_text()}")
            with socket.socket() as sock:
                sock.settimeout(0.5)
                return sock.connect_ex((self.address, self.ssh_port)) == 0

        wait_until(listening, timeout=15, what=f"sshd of {self.name} did not listen")

    def stop_sshd(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def supervisor_pid(self) -> int | None:
        try:
            return int((self.dir / "state" / "supervisor.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def kill(self) -> None:
        """The machine dies: sshd, the supervisor and every app process, SIGKILL."""
        self.stop_sshd()
        pid = self.supervisor_pid()
        if pid is not None and _alive(pid):
            doomed = [pid, *_children(pid)]
            for one in doomed:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(one, signal.SIGKILL)

    def rekey(self) -> None:
        """A reinstalled machine: a new host key, sshd restarted on the same port."""
        self.stop_sshd()
        for path in self.home.glob("ssh_host_ed25519_key*"):
            path.unlink()
        self.start()

    def stop_app(self) -> None:
        pid = self.supervisor_pid()
        if pid is None or not _alive(pid):
            return
        doomed = [pid, *_children(pid)]
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(_alive(p) for p in doomed):
            time.sleep(0.05)
        for one in doomed:
            if _alive(one):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(one, signal.SIGKILL)


@dataclass
class Fleet:
    """Hosts web1..webN, the client's key and known_hosts, one app port free on all."""

    root: Path
    hosts: list[FakeHost] = field(default_factory=list)
    app_port: int = 0

    @property
    def client_key(self) -> Path:
        return self.root / "client_key"

    @property
    def known_hosts(self) -> Path:
        return self.root / "known_hosts"

    def write_known_hosts(self) -> None:
        lines = []
        for host in self.hosts:
            kind, key = host.public_key.split()[:2]
            lines.append(f"[{host.address}]:{host.ssh_port} {kind} {key}\n")
        self.known_hosts.write_text("".join(lines))

    def options(self, **extra: Any) -> dict[str, Any]:
        """The ssh target's options for this fleet (the app listening on each host's address)."""
        app = {
            "port": self.app_port,
            "host": "{address}",
            "env": {"APP_VERSION": "{version}"},
            "health_timeout": "20s",
            "quiesce": "1s",
            "drain_timeout": "5s",
        }
        app.update(extra.pop("app", {}))
        return {
            "hosts": [
                {"host": h.address, "port": h.ssh_port, "server": h.name} for h in self.hosts
            ],
            "user": "root",
            "identity_file": str(self.client_key),
            "known_hosts": str(self.known_hosts),
            "dir": str(self.root / "{host}"),
            "python": sys.executable,
            "agent_env": {"PYTHONPATH": SRC},
            "connect_timeout": "5s",
            "app": app,
            **extra,
        }


def _common_port(addresses: list[str]) -> int:
    for _ in range(50):
        port = _free_port(addresses[0])
        try:
            for address in addresses[1:]:
                with socket.socket() as sock:
                    sock.bind((address, port))
        except OSError:
            continue
        return port
    raise AssertionError("no port free on every host address")


@contextmanager
def fleet(root: Path, count: int) -> Iterator[Fleet]:
    """``count`` hosts on 127.0.0.2 …, started; every process they ran is gone afterwards."""
    if not os.path.exists(SSHD) or shutil.which("ssh") is None:
        pytest.skip(SSHD_MISSING)
    root.mkdir(parents=True, exist_ok=True)
    group = Fleet(root)
    client_pub = _keygen(group.client_key, "releasegate-tests")
    authorized = root / "authorized_keys"
    authorized.write_text(client_pub + "\n")
    try:
        for i in range(count):
            name = f"web{i + 1}"
            home = root / f".{name}-sshd"
            home.mkdir()
            host = FakeHost(name, f"127.0.0.{i + 2}", home, root / name, authorized)
            group.hosts.append(host)
            host.start()
        group.write_known_hosts()
        group.app_port = _common_port([h.address for h in group.hosts])
        yield group
    finally:
        for host in group.hosts:
            host.stop_app()
            host.stop_sshd()
