"""Helpers for the example service's tests: run versions as real uvicorn processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "camarketplace"
VERSIONS = EXAMPLE / "versions"
DEMO_PASSWORD = "demo-pass-123"  # pragma: allowlist secret
DEMO_LOGIN = {"email": "demo@camarketplace.test", "password": DEMO_PASSWORD}


def service_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment a version runs with: our data dir, no inherited DB or Redis."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["CAMARKETPLACE_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def migrate(
    version: str, command: str, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m camarketplace.migrate`` in a version directory."""
    return subprocess.run(
        [sys.executable, "-m", "camarketplace.migrate", command, *args],
        cwd=VERSIONS / version, env=env, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip


def listening_socket() -> socket.socket:
    """A TCP socket on a free loopback port, listening, as a supervisor would hand it over."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # uvicorn --fd never sets it
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@dataclass
class Server:
    """One running version: its process, its URL, and a client for it."""

    version: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def client(self) -> httpx.Client:
        """An HTTP client for this server."""
        return httpx.Client(base_url=self.url, timeout=10)

    def wait_ready(self, deadline: float) -> None:
        """Wait until ``/monitoring/health`` answers; fail with the server's log if not."""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}/monitoring/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"camarketplace {self.version} did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 5 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start_server(
    version: str, env: dict[str, str], log_dir: Path, *, port: int | None = None
) -> Server:
    """Start a version with uvicorn on an inherited socket (``--fd``), or on ``--port``."""
    argv = [sys.executable, "-m", "uvicorn", "camarketplace.app:app", "--log-level", "warning"]
    log = log_dir / f"camarketplace-{version}-{time.monotonic_ns()}.log"
    with log.open("wb") as out:
        if port is None:
            sock = listening_socket()
            fd = sock.fileno()
            url = f"http://127.0.0.1:{sock.getsockname()[1]}"
            process = subprocess.Popen(
                [*argv, "--fd", str(fd)], cwd=VERSIONS / version, env=env,
                stdout=out, stderr=subprocess.STDOUT, pass_fds=(fd,),
            )  # fmt: skip
            sock.close()  # the server holds its own copy now
        else:
            url = f"http://127.0.0.1:{port}"
            process = subprocess.Popen(
                [*argv, "--host", "127.0.0.1", "--port", str(port)], cwd=VERSIONS / version,
                env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
    return Server(version, process, url, log)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def login(client: httpx.Client) -> dict[str, str]:
    """Sign in as the demo user; return the Authorization header."""
    response = client.post("/api/auth/login", json=DEMO_LOGIN)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}
