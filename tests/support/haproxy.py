"""A real HAProxy (Debian's) in front of a fleet, with its runtime API on a unix socket.

The frontend picks its backend from a map (``active`` → ``app`` or ``maintenance``), so the
maintenance page is a backend switch through the runtime API; the ``app`` backend
health-checks every server every 300 ms.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.support.sshd import wait_until

HAPROXY_MISSING = (
    "haproxy is not installed (Debian: apt-get install -y haproxy; scripts/services.sh installs it)"
)


@dataclass
class RunningHaproxy:
    url: str
    socket: Path
    map: Path
    process: subprocess.Popen[bytes]

    def options(self) -> dict[str, str]:
        """The haproxy balancer's options for this instance."""
        return {"socket": str(self.socket), "backend": "app", "maintenance_map": str(self.map)}

    def ask(self, command: str) -> str:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(str(self.socket))
            sock.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def states(self) -> dict[str, str]:
        """Each app server's status (``UP``, ``DOWN``, ``DRAIN`` ...)."""
        lines = self.ask("show stat").lstrip("# ").splitlines()
        header = lines[0].split(",")
        rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
        return {r["svname"]: r["status"] for r in rows
                if r["pxname"] == "app" and r["svname"] not in ("FRONTEND", "BACKEND")}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_haproxy(
    servers: list[tuple[str, str, int]], home: Path, *, wait_up: bool = True
) -> Iterator[RunningHaproxy]:
    """HAProxy balancing ``(name, address, port)`` servers; yielded once its API answers
    (and, with ``wait_up``, once every server is UP)."""
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(binary).exists():
        pytest.skip(HAPROXY_MISSING)
    short = Path(tempfile.mkdtemp(prefix="rg-hap-", dir="/tmp"))  # sun_path is 108 bytes
    sock, route = short / "admin.sock", home / "route.map"
    route.write_text("active app\n")
    port = _free_port()
    lines = "".join(
        f"    server {name} {address}:{app_port} check\n" for name, address, app_port in servers
    )
    config = home / "haproxy.cfg"
    config.write_text(
        f"global\n    stats socket {sock} mode 600 level admin\n    stats timeout 30s\n"
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 30s\n"
        "    timeout server 30s\n    retries 3\n    option redispatch\n"
        f"frontend web\n    bind 127.0.0.1:{port}\n"
        f"    use_backend %[str(active),map({route},app)]\n"
        "backend app\n    balance roundrobin\n    option httpchk GET /monitoring/health\n"
        "    default-server inter 300ms fall 2 rise 1\n"
        f"{lines}"
        "backend maintenance\n"
        '    http-request return status 503 content-type text/html string "<h1>down for maintenance</h1>" hdr retry-after 120\n'
    )
    log = (home / "haproxy.log").open("ab")
    process = subprocess.Popen([binary, "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT)
    log.close()
    running = RunningHaproxy(f"http://127.0.0.1:{port}", sock, route, process)
    try:
        def up() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"haproxy exited: {(home / 'haproxy.log').read_text()}")
            try:
                states = running.states()
            except OSError:
                return False
            return not wait_up or all(s == "UP" for s in states.values())

        wait_until(up, timeout=30, what="haproxy did not see every server UP")
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(short, ignore_errors=True)
