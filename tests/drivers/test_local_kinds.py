"""The local target's app kinds under real load: a Flask (WSGI) app, gunicorn with its own
command, ``workers: 2``; the app's own interpreter; what a failed first deploy leaves."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_local import LOADGEN, Site, _alive, _free_port, _wait_gone

from releasegate.drivers.targets.local import LocalOptions

HERE = Path(__file__).parent
WSGI_APP = HERE / "local_app_wsgi" / "app.py"
ASGI_APP = HERE / "local_app" / "app.py"

# versions run side by side: gunicorn's control socket (one per user by default) must go
GUNICORN = ("--workers", "{workers}", "--no-control-socket", "app:app")

MakeSite = Callable[..., Site]


@pytest.fixture
def make_site(tmp_path: Path) -> Iterator[MakeSite]:
    """Builds a site whose versions 1.0.0 and 2.0.0 hold ``app_file``, with extra options;
    every process its supervisor started is gone afterwards."""
    made: list[Site] = []

    def make(app_file: Path, **options: Any) -> Site:
        for version in ("1.0.0", "2.0.0"):
            (tmp_path / "app" / "versions" / version).mkdir(parents=True, exist_ok=True)
            (tmp_path / "app" / "versions" / version / app_file.name).write_text(
                app_file.read_text()
            )
        site = Site(tmp_path, _free_port())
        site.options = LocalOptions.model_validate(
            {**site.options.model_dump(mode="json", exclude_none=True), **options}
        )
        made.append(site)
        return site

    yield make
    for site in made:
        status = site.status()
        if status is None:
            continue
        pids = [status.pid, *(int(p["pid"]) for p in status.processes)]
        os.kill(status.pid, signal.SIGTERM)
        for pid in _wait_gone(pids):
            os.kill(pid, signal.SIGKILL)


def _load(url: str, out: Path, rate: int) -> subprocess.Popen[bytes]:
    argv = [sys.executable, str(LOADGEN), "--url", url, "--rate", str(rate)]
    # runs until SIGINT (bounded by the duration should the test die first)
    argv += ["--duration", "600", "--out", str(out)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL)


def _swaps_under_load(
    site: Site, tmp_path: Path, rounds: int = 2, rate: int = 200
) -> dict[str, Any]:
    """1.0.0 live, then ``rounds`` times: deploy 2.0.0, roll back to 1.0.0 — under an
    open-loop ``rate`` requests/s; returns the load generator's summary."""
    first = site.deploy("1.0.0")
    assert first.ok, first.summary
    out = tmp_path / "load.json"
    load = _load(site.url + "/monitoring/version", out, rate)
    try:
        time.sleep(1.0)
        for _ in range(rounds):
            swapped = site.deploy("2.0.0")
            assert swapped.ok, swapped.summary
            assert site.get().json() == {"version": "2.0.0"}
            back = site.rollback("1.0.0")
            assert back.ok, back.summary
            assert site.get().json() == {"version": "1.0.0"}
        time.sleep(0.5)
    finally:
        load.send_signal(signal.SIGINT)  # it stops and waits for the requests in flight
        assert load.wait(timeout=30) == 0
    summary: dict[str, Any] = json.loads(out.read_text())["summary"]
    assert set(summary["versions"]) == {"1.0.0", "2.0.0"}
    return summary


def test_a_flask_wsgi_app_swaps_and_rolls_back_without_a_failed_request(
    make_site: MakeSite, tmp_path: Path
) -> None:
    site = make_site(WSGI_APP, wsgi="app:app")
    summary = _swaps_under_load(site, tmp_path)
    assert summary["failed"] == 0, summary
    assert summary["requests"] >= 500


def test_gunicorn_with_its_own_command_swaps_without_a_failed_request(
    make_site: MakeSite, tmp_path: Path
) -> None:
    site = make_site(
        WSGI_APP,
        command=["{python}", "-m", "gunicorn", *GUNICORN],
        workers=2,
    )
    # 100/s: two sync workers open a connection per request, which a machine shared with
    # other test runs may not keep up with at 200/s (the benchmark measures that)
    summary = _swaps_under_load(site, tmp_path, rate=100)
    assert summary["failed"] == 0, summary
    status = site.status()
    assert status is not None
    (gunicorn,) = status.processes  # one master; it forks `workers` itself
    master = int(gunicorn["pid"])
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    assert len(children) == 2
    log = (site.state_dir / "logs" / "1.0.0.log").read_text()
    # the shared socket at fd 3, and the private one at fd 4 that tells when it is ready
    assert re.search(
        rf"Listening at: http://127\.0\.0\.1:{site.port},http://127\.0\.0\.1:\d+ ", log
    )


@pytest.mark.parametrize("workers", [2, 4])
def test_workers_share_the_socket_and_swap_without_a_failed_request(
    make_site: MakeSite, tmp_path: Path, workers: int
) -> None:
    site = make_site(WSGI_APP, wsgi="app:app", workers=workers)
    summary = _swaps_under_load(site, tmp_path, rounds=1 if workers == 2 else 2)
    assert summary["failed"] == 0, summary
    status = site.status()
    assert status is not None
    pids = {int(p["pid"]) for p in status.processes}
    assert len(pids) == workers
    answered: set[int] = set()
    deadline = time.monotonic() + 20
    while answered != pids and time.monotonic() < deadline:
        # new connections each time: the kernel hands them to whichever worker accepts
        answered.add(httpx.get(site.url + "/monitoring/whoami", timeout=5).json()["pid"])
    assert answered == pids


def _venv_without_releasegate(root: Path) -> Path:
    """A real venv (no pip) that sees only what the app needs: flask, uvicorn, a2wsgi and
    their dependencies, linked from the test venv (no network here)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    site_packages = Path(next(p for p in sys.path if p.endswith("site-packages")))
    vendor = root / "vendor"
    vendor.mkdir()
    wanted = (
        "flask", "werkzeug", "jinja2", "markupsafe", "itsdangerous", "click", "blinker",
        "uvicorn", "h11", "a2wsgi",
    )  # fmt: skip
    for name in wanted:
        (vendor / name).symlink_to(site_packages / name)
    (next(root.glob("lib/python*/site-packages")) / "vendor.pth").write_text(f"{vendor}\n")
    return root


def test_an_app_with_its_own_venv_does_not_see_releasegate(
    make_site: MakeSite, tmp_path: Path
) -> None:
    venv = _venv_without_releasegate(tmp_path / "appvenv")
    site = make_site(WSGI_APP, wsgi="app:app", venv=str(venv))
    result = site.deploy("1.0.0")
    assert result.ok, result.summary
    who = site.get("/monitoring/whoami").json()
    assert who["prefix"] == str(venv)
    assert who["releasegate"] is False


def test_a_changed_version_is_refused_unless_reinstalled(make_site: MakeSite) -> None:
    site = make_site(ASGI_APP)
    first = site.deploy("1.0.0")
    assert first.ok
    digest = first.evidence["sha256"]
    assert isinstance(digest, str)
    assert len(digest) == 64
    source = site.workdir / "app" / "versions" / "1.0.0" / "app.py"
    source.write_text(source.read_text().replace('"version": VERSION', '"version": "rebuilt"'))
    again = site.deploy("1.0.0")
    assert not again.ok
    assert again.summary.startswith(
        f"local target: version 1.0.0 was installed from other files than "
        f"{source.parent} holds now (installed sha256 {digest[:12]}, now "
    )
    assert again.summary.endswith(
        "give the new files a new version, or deploy with `reinstall: true`"
    )
    assert site.get().json() == {"version": "1.0.0"}
    site.options = site.options.model_copy(update={"reinstall": True})
    rebuilt = site.deploy("1.0.0")
    assert rebuilt.ok, rebuilt.summary
    assert rebuilt.evidence["sha256"] != digest
    assert site.get().json() == {"version": "rebuilt"}


def test_a_failed_first_deploy_leaves_the_port_refusing(make_site: MakeSite) -> None:
    site = make_site(ASGI_APP, env={"APP_HEALTH": "fail"}, health_timeout="3s")
    result = site.deploy("1.0.0")
    assert not result.ok
    assert result.summary.startswith(
        "version 1.0.0 failed its health check and was not swapped in (nothing keeps "
        "serving): GET /monitoring/health answered HTTP 500, not 2xx, within 3s"
    )
    assert site.status() is None
    with pytest.raises(httpx.ConnectError):
        site.get()


def test_a_command_that_ignores_the_probe_socket_is_named(make_site: MakeSite) -> None:
    # a plain server on fd 3 that is declared as speaking releasegate's protocol
    site = make_site(
        WSGI_APP,
        command=["{python}", "-m", "gunicorn", *GUNICORN],
        protocol="releasegate",
        health_timeout="3s",
    )
    result = site.deploy("1.0.0")
    assert not result.ok
    assert result.summary.startswith(
        "version 1.0.0 failed its health check and was not swapped in (nothing keeps "
        "serving): GET /monitoring/health on its probe socket 127.0.0.1:"
    ), result.summary
    assert (
        ": the server never accepted the connection (it waited in the socket's accept "
        "queue): the server must serve the socket in "
        "RELEASEGATE_PROBE_FD (fd 4) until it reads `admit`; a server that only serves "
        "fd 3 needs `protocol: listen-fds`, within 3s; last log line: "
    ) in result.summary
    assert site.status() is None


def test_options_take_one_app_kind() -> None:
    with pytest.raises(ValueError, match="give one of asgi, wsgi, command, not asgi and wsgi"):
        LocalOptions.model_validate({"app": ".", "asgi": "a:b", "wsgi": "a:b"})


def test_no_process_is_left_after_a_supervisor_is_killed(make_site: MakeSite) -> None:
    site = make_site(WSGI_APP, command=["{python}", "-m", "gunicorn", *GUNICORN])
    assert site.deploy("1.0.0").ok
    status = site.status()
    assert status is not None
    master = int(status.processes[0]["pid"])
    workers = [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    assert all(_alive(p) for p in [master, *workers])
    os.kill(status.pid, signal.SIGKILL)  # gunicorn knows nothing of the control pipe
    assert _wait_gone([status.pid, master, *workers], timeout=20) == []


NODE_SERVER = HERE / "local_app_node" / "server.js"


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Debian's nodejs")
def test_a_node_server_speaking_the_protocol_swaps_without_a_failed_request(
    make_site: MakeSite, tmp_path: Path
) -> None:
    site = make_site(
        NODE_SERVER, command=["node", "{version_dir}/server.js"], protocol="releasegate"
    )
    summary = _swaps_under_load(site, tmp_path)
    assert summary["failed"] == 0, summary
    asyncio.run(site.target.maintenance(site.options, site.ctx("x"), on=True))
    page = site.get()
    assert (page.status_code, page.headers["retry-after"]) == (503, "120")


def test_local_serve_as_a_plain_command_serves_both_sockets(
    make_site: MakeSite, tmp_path: Path
) -> None:
    # an older config whose command runs the wrapper itself: rehearsed, then ready on fd 4
    site = make_site(
        ASGI_APP, command=["{python}", "{serve}", "--fd", "{fd}", "--app-dir", ".", "app:app"]
    )
    summary = _swaps_under_load(site, tmp_path, rounds=1)
    assert summary["failed"] == 0, summary


def test_a_missing_interpreter_is_named(make_site: MakeSite) -> None:
    site = make_site(ASGI_APP, python="py/bin/python3")
    result = site.deploy("1.0.0")
    assert not result.ok
    assert result.summary == (
        f"local target: python 'py/bin/python3': {site.workdir}/py/bin/python3 does not "
        "exist (or is not a file)"
    )
    assert not (site.state_dir / "supervisor.log").exists()  # no supervisor was started


def test_uvicorns_own_cli_serving_fd_3_only_is_swapped(make_site: MakeSite, tmp_path: Path) -> None:
    # uvicorn --fd serves fd 3 only: ready after the rehearsal's boot time, x1.5
    site = make_site(ASGI_APP, command=["{python}", "-m", "uvicorn", "--fd", "{fd}", "app:app"])
    summary = _swaps_under_load(site, tmp_path, rounds=1)
    assert summary["requests"] >= 300
    # Not asserted zero: without the quiesce step uvicorn closes idle keep-alive connections
    # on SIGTERM, and a client sending on one then gets no answer (1 request in 1 of 4 runs
    # here; docs/local-target.md says so). Many failures would mean the handover broke.
    assert summary["failed"] <= 2, summary


def test_a_command_that_serves_nothing_is_named(make_site: MakeSite) -> None:
    site = make_site(
        ASGI_APP, command=["{python}", "-c", "import time; time.sleep(60)"], health_timeout="2s"
    )
    result = site.deploy("1.0.0")
    assert not result.ok
    assert result.summary.startswith(
        "version 1.0.0 failed its health check and was not swapped in (nothing keeps "
        "serving): GET /monitoring/health on its private socket 127.0.0.1:"
    ), result.summary
    assert result.summary.endswith(
        ": the server never accepted the connection (it waited in the socket's accept "
        "queue): the server must serve the sockets in LISTEN_FDS "
        "(fd 3 is `{fd}`) and answer /monitoring/health with 2xx, within 2s"
    ), result.summary
    assert site.status() is None


@pytest.mark.parametrize(
    ("server", "said"),
    [
        (  # takes every connection on the probe socket and never answers
            "import socket, time; s = socket.socket(fileno=4); held = []\n"
            "while True: held.append(s.accept())",
            "the server accepted the connection but sent no HTTP response within 1s",
        ),
        (  # closes the probe socket: nothing listens there
            "import os, time; os.close(4); time.sleep(60)",
            "the connection was refused (nothing listens there any more)",
        ),
        (  # answers with something that is not HTTP
            "import socket; s = socket.socket(fileno=4)\n"
            "while True:\n c, _ = s.accept(); c.recv(1024); c.close()",
            "the server closed the connection without an HTTP response",
        ),
    ],
    ids=["accepted-no-response", "refused", "closed"],
)
def test_the_probe_says_what_the_server_failed_to_do(
    make_site: MakeSite, server: str, said: str
) -> None:
    site = make_site(
        ASGI_APP, command=["{python}", "-c", server], protocol="releasegate", health_timeout="3s"
    )
    result = site.deploy("1.0.0")
    assert not result.ok
    assert "GET /monitoring/health on its probe socket 127.0.0.1:" in result.summary
    assert f": {said}: the server must serve the socket in RELEASEGATE_PROBE_FD" in result.summary, result.summary


def _cpus(site: Site, processes: int = 1) -> dict[int, tuple[list[int], list[int]]]:
    """pid → (CPUs it could use when it imported the app, CPUs now), asked on new
    connections until ``processes`` different ones answered (or 30 s went by: the kernel
    hands each connection to whichever worker accepts, and a busy machine may favour one)."""
    seen: dict[int, tuple[list[int], list[int]]] = {}
    deadline = time.monotonic() + 30
    while len(seen) < processes and time.monotonic() < deadline:
        me = site.get("/monitoring/whoami").json()
        seen[int(me["pid"])] = (me["boot_cpus"], me["cpus"])
    return seen


@pytest.mark.parametrize("kind", ["gunicorn", "workers"])
def test_a_new_version_boots_on_all_cpus_but_one_then_gets_them_all(
    make_site: MakeSite, kind: str
) -> None:
    if kind == "gunicorn":  # a master that forks its workers while it is pinned
        site = make_site(WSGI_APP, command=["{python}", "-m", "gunicorn", *GUNICORN], workers=2)
    else:
        site = make_site(WSGI_APP, wsgi="app:app", workers=2)
    for version in ("1.0.0", "2.0.0"):
        done = site.deploy(version)
        assert done.ok, done.summary
    status = site.status()
    assert status is not None
    every = sorted(os.sched_getaffinity(status.pid))
    booted = every[1:] if len(every) > 1 else every  # the first CPU is the serving version's
    seen = _cpus(site, processes=2)
    assert len(seen) == 2, seen  # both workers answered
    assert all(now == every for _, now in seen.values()), seen
    if kind == "workers":  # each is healthy before any is released
        assert all(boot == booted for boot, _ in seen.values()), seen
    else:  # gunicorn's second worker may import the app after the first made it healthy
        assert booted in [boot for boot, _ in seen.values()], seen
    # every thread of every process, the master's forked workers too, has them all
    master = status.processes[0]["pid"]
    assert {tuple(p["cpus"]) for p in status.processes} == {tuple(every)}
    for pid in [int(master), *(int(c) for c in _children(int(master)))]:
        for tid in os.listdir(f"/proc/{pid}/task"):
            assert sorted(os.sched_getaffinity(int(tid))) == every, (pid, tid)


def _children(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


def test_boot_cpus_pins_as_many_as_asked(make_site: MakeSite) -> None:
    site = make_site(WSGI_APP, wsgi="app:app", boot_cpus=1)
    done = site.deploy("1.0.0")
    assert done.ok, done.summary
    status = site.status()
    assert status is not None
    every = sorted(os.sched_getaffinity(status.pid))
    [(boot, now)] = _cpus(site).values()
    assert boot == (every[-1:] if len(every) > 1 else every)
    assert now == every


def test_the_boot_cpus_leave_one_and_never_pin_to_all() -> None:
    from releasegate.drivers.targets.local_cpus import allowed, boot_set

    every = allowed()
    if len(every) == 1:
        assert boot_set(None) == []
    else:
        assert boot_set(None) == every[1:]
        assert boot_set(1) == every[-1:]
    assert boot_set(len(every)) == []  # all of them: nothing to pin
    assert boot_set(len(every) + 5) == []
