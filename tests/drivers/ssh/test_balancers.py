"""The load balancer drivers against a real HAProxy (runtime API on a unix socket) and the
``command`` fallback against real scripts; ``lb-healthy`` and ``lb-maintenance`` on top."""

from __future__ import annotations

import asyncio
import http.server
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.haproxy import RunningHaproxy, running_haproxy
from tests.support.sshd import wait_until

from releasegate.drivers.balancers import BalancerSpec
from releasegate.drivers.balancers.api import open_balancer
from releasegate.drivers.checks.lb_healthy import LbHealthy
from releasegate.drivers.checks.lb_maintenance import LbMaintenance
from releasegate.testing import make_context, run_driver


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"version": "1.0.0"}'
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def backend() -> Iterator[int]:
    """A real HTTP server on 127.0.0.1 answering 200 to everything; its port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.fixture
def haproxy(backend: int, tmp_path: Path) -> Iterator[RunningHaproxy]:
    """HAProxy with ``web1`` (the backend above) and ``web2`` (nothing listens: DOWN)."""
    dead = _unused_port()
    with running_haproxy(
        [("web1", "127.0.0.1", backend), ("web2", "127.0.0.1", dead)], tmp_path, wait_up=False
    ) as running:
        wait_until(lambda: running.states() == {"web1": "UP", "web2": "DOWN"}, timeout=20,
                   what="haproxy did not see web1 UP and web2 DOWN")
        yield running


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spec(haproxy: RunningHaproxy) -> dict[str, object]:
    return {"uses": "haproxy", "with": haproxy.options()}


def test_lb_healthy_names_the_server_that_is_down(haproxy: RunningHaproxy) -> None:
    result = run_driver(LbHealthy(), {"balancer": _spec(haproxy)})
    assert not result.ok
    assert result.summary.startswith("1 of 2 servers up, 2 required (web2 DOWN")
    servers = result.evidence["servers"]
    assert isinstance(servers, dict)
    assert servers["web1"] == {"state": "up", "status": "UP", "connections": 0}
    assert run_driver(LbHealthy(), {"balancer": _spec(haproxy), "min_up": 1}).ok


def test_drain_and_ready_through_the_runtime_api(haproxy: RunningHaproxy) -> None:
    balancer = open_balancer(BalancerSpec.model_validate(_spec(haproxy)), make_context())
    asyncio.run(balancer.drain("web1"))
    assert haproxy.states()["web1"] == "DRAIN"
    assert [s.state for s in asyncio.run(balancer.servers())] == ["drain", "down"]
    asyncio.run(balancer.ready("web1"))
    assert haproxy.states()["web1"] == "UP"


def test_an_unknown_server_is_an_error_naming_it(haproxy: RunningHaproxy) -> None:
    balancer = open_balancer(BalancerSpec.model_validate(_spec(haproxy)), make_context())
    with pytest.raises(Exception, match="web9") as caught:
        asyncio.run(balancer.drain("web9"))
    assert "No such server" in str(caught.value)


def test_maintenance_page_is_a_backend_switch(haproxy: RunningHaproxy) -> None:
    assert httpx.get(haproxy.url + "/", timeout=5).status_code == 200
    options = {"balancer": _spec(haproxy), "action": "enable"}
    assert run_driver(LbMaintenance(), options).ok
    page = httpx.get(haproxy.url + "/", timeout=5)
    assert (page.status_code, page.headers["retry-after"]) == (503, "120")
    assert "maintenance" in page.text
    assert run_driver(LbMaintenance(), options, action="undo").ok
    assert httpx.get(haproxy.url + "/", timeout=5).status_code == 200


def test_a_missing_socket_fails_the_check_with_its_path(tmp_path: Path) -> None:
    spec = {"uses": "haproxy", "with": {"socket": str(tmp_path / "none.sock"), "backend": "app"}}
    result = run_driver(LbHealthy(), {"balancer": spec})
    assert not result.ok
    assert f"no runtime API answers at {tmp_path / 'none.sock'}" in result.summary


def test_command_balancer_runs_the_teams_commands(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    script = tmp_path / "lb.sh"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {calls}\n'
        'if [ "$1" = servers ]; then echo "web1 up 0"; echo "web2 maint"; fi\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    spec = {
        "uses": "command",
        "with": {"drain": [str(script), "drain", "{server}"], "ready": [str(script), "ready", "{server}"],
                 "servers": [str(script), "servers"]},
    }
    balancer = open_balancer(BalancerSpec.model_validate(spec), make_context(workdir=tmp_path))
    asyncio.run(balancer.drain("web2"))
    asyncio.run(balancer.ready("web2"))
    result = run_driver(LbHealthy(), {"balancer": spec}, workdir=tmp_path)
    assert not result.ok
    assert result.summary == "1 of 2 servers up, 2 required (web2 maint)"
    assert calls.read_text().splitlines() == ["drain web2", "ready web2", "servers"]
    failing = run_driver(LbMaintenance(), {"balancer": spec}, workdir=tmp_path)
    assert not failing.ok
    assert "give maintenance_on and maintenance_off" in failing.summary
