"""``releasegate serve`` as a real process: it listens, answers, serves the API with a
token made by ``releasegate token create``, and refuses a bad config before listening."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .conftest import CONFIG

RG = [sys.executable, "-m", "releasegate"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_serve_answers_on_the_port_it_is_given(tmp_path: Path) -> None:
    (tmp_path / "releasegate.yaml").write_text(CONFIG)
    env = {**os.environ, "RELEASEGATE_USER": "root"}
    made = subprocess.run([*RG, "token", "create", "ops", "--user", "dev"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([*RG, "serve", "--port", str(port)], cwd=tmp_path, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/monitoring/health", timeout=5)
                break
            except httpx.TransportError:
                assert server.poll() is None, (tmp_path / "serve.log").read_text()
                assert time.monotonic() < deadline, "serve did not start listening"
                time.sleep(0.05)
        assert health.json()["status"] == "ok"
        envs = httpx.get(f"http://127.0.0.1:{port}/api/v1/environments",
                         headers={"Authorization": f"Bearer {made.stdout.strip()}"}, timeout=30)
        assert [e["environment"] for e in envs.json()] == ["staging", "production"]
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
        log.close()
    assert "Uvicorn running on" in (tmp_path / "serve.log").read_text()


def test_serve_refuses_a_bad_config_before_listening(tmp_path: Path) -> None:
    (tmp_path / "releasegate.yaml").write_text("project: t\nenvironments: {}\nbogus: 1\n")
    done = subprocess.run([*RG, "serve", "--port", str(_free_port())], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "bogus" in done.stderr


def test_serve_with_processes_shares_the_forms_key_across_its_processes(tmp_path: Path) -> None:
    import re

    (tmp_path / "releasegate.yaml").write_text(CONFIG)
    env = {**os.environ, "RELEASEGATE_USER": "root"}
    made = subprocess.run([*RG, "token", "create", "ops", "--user", "vic"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([*RG, "serve", "--port", str(port), "--processes", "2"], cwd=tmp_path,
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while "Started server process" not in (tmp_path / "serve.log").read_text() or \
                (tmp_path / "serve.log").read_text().count("Application startup complete") < 2:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "serve --processes 2 did not start"
            time.sleep(0.05)
        with httpx.Client(base_url=base, timeout=30) as first:
            assert first.post("/login", data={"token": token}).status_code == 303
            found = re.search(r'name="csrf" value="([0-9a-f]{64})"', first.get("/").text)
            assert found
            cookie = first.cookies
        # each request on a connection of its own: the two processes share them out
        for _ in range(16):
            with httpx.Client(base_url=base, timeout=30, cookies=cookie) as fresh:
                out = fresh.post("/logout", data={"csrf": found.group(1)})
                assert out.status_code == 303, out.text
        pids = set(re.findall(r"Started server process \[(\d+)\]", (tmp_path / "serve.log").read_text()))
        assert len(pids) == 2
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
        log.close()
