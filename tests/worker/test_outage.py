"""A worker that cannot reach the database for a while: its deployment is taken over by a
worker that can, and ends exactly once."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import suppress

import pytest
from tests.worker.conftest import Team, environment, sleep_step, wait_for

from releasegate.service import records

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


class Proxy:
    """A TCP proxy to PostgreSQL on 127.0.0.1 that can be cut: every connection is dropped
    and new ones are refused until it is restored."""

    def __init__(self, port: int = 5432) -> None:
        self.target = ("127.0.0.1", port)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.up = threading.Event()
        self.up.set()
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if not self.up.is_set():
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        with suppress(OSError):
            while data := a.recv(65536):
                b.sendall(data)
        for s in (a, b):
            with suppress(OSError):
                s.close()

    def cut(self) -> None:
        self.up.clear()
        with self.lock:
            for s in self.conns:
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
            self.conns.clear()

    def restore(self) -> None:
        self.up.set()

    def close(self) -> None:
        self.cut()
        self.server.close()


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    made = Proxy()
    yield made
    made.close()


def test_a_worker_cut_off_from_the_database_is_taken_over(team: Team, proxy: Proxy) -> None:
    gates = sleep_step("g1", 3) + sleep_step("g2", 0.2, needs="g1")
    team.write(environment("staging", team.out, gates=gates))
    id = team.enqueue("staging", "1.0.0")
    direct = team.db_url
    team.db_url = direct.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    team.start_worker("cut")
    team.db_url = direct
    wait_for("the first gate to start", lambda: team.queued(id).deployment_id, timeout=60)
    proxy.cut()
    direct_worker = team.start_worker("direct")
    [record] = team.wait_ended([id], timeout=team.lease_s + 60)
    proxy.restore()
    assert record.status == "done", record
    assert record.worker == f"{socket.gethostname()}:{direct_worker.pid}"  # it ended it
    ws = team.ws()
    try:
        dep = ws.store.get_deployment(record.deployment_id or 0)
        assert dep is not None
        assert dep.status == "succeeded", dep  # cut off during the gates: the gates go on
        events = ws.store.list_events(deployment_id=dep.id)
        types = [e.type for e in events]
        assert "deployment.resumed" in types
        assert types.count("deployment.succeeded") == 1
        audit = records.audit_verify(ws, ws.actor(requested="ci", env_user=None))
        assert audit.ok, audit.problems
    finally:
        ws.close()
