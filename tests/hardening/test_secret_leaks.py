"""A secret used by a deployment appears in no channel a person or another process can
read: the terminal, ``--json``, ``show`` in every format, the SQLite file, a ``pg_dump``
of a PostgreSQL store, the state directory, and other processes' command lines while a
step runs — not as itself, not base64- or URL-encoded, not cut in half by the output cap."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest

SECRET = "s3cr3t-Tok3n-do-not-leak-4f9a"
RG = [sys.executable, "-m", "releasegate"]


class _Echo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"auth was {self.headers.get('Authorization')}".encode()
        ok = self.headers.get("Authorization") == f"Bearer {SECRET}"
        self.send_response(200 if ok else 401)
        self.send_header("X-Echo", self.headers.get("Authorization") or "")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def echo_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# The steps print the secret as it is, base64 (alone and inside user:secret), URL-encoded,
# cut by the 64 KiB output cap, and one looks for it in every process's command line.
PRINTS = (
    "import base64, os, urllib.parse as u; s = os.environ['TOKEN']; print(s); "
    "print(base64.b64encode(s.encode()).decode()); "
    "print(base64.b64encode(('user:' + s).encode()).decode()); print(u.quote(s, safe=''))"
)
CUT = "import os; s = os.environ['TOKEN']; print('x' * (32 * 1024 - 12) + s + 'y' * 70000)"
# ``{{name}}``: a command's ``{name}`` is a placeholder (an unknown one a config error)
SCAN = (
    "import os, sys; s = os.environ['TOKEN'].encode(); found = []\n"
    "for pid in os.listdir('/proc'):\n"
    "    try: found += [pid] if pid.isdigit() and s in open(f'/proc/{{pid}}/cmdline', 'rb').read() else []\n"
    "    except OSError: pass\n"
    "sys.exit(f'the secret is in the command line of {{found}}' if found else 0)"
)


def _config(url: str) -> str:
    def step(name: str, code: str) -> str:
        return (
            f"      - id: {name}\n        uses: command\n        with:\n"
            f"          run: [{sys.executable}, -c, {code!r}]\n"
            '          env: {TOKEN: "${env:RG_TOKEN}"}\n'
        )

    return (
        "project: leak\nenvironments:\n  staging:\n    gates:\n"
        + step("prints", PRINTS) + step("cut", CUT) + step("scan", SCAN)
        + f"      - id: api\n        uses: http-check\n        with:\n          url: {url}\n"
        '          paths: [/]\n          headers: {Authorization: "Bearer ${env:RG_TOKEN}"}\n'
    )


def _forms() -> list[str]:
    raw = SECRET.encode()
    forms = [SECRET, quote(SECRET, safe=""), SECRET[:14], SECRET[-14:]]
    for prefix in (b"", b"u", b"us", b"user:"):
        text = base64.b64encode(prefix + raw).decode()
        forms.append(text[4:-4] if prefix else text.rstrip("="))
    return forms


def _leaks(where: str, data: bytes | str) -> list[str]:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return [f"{where}: {form[:12]}…" for form in _forms() if form in text]


def _run(cwd: Path, *args: str, db: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RG_TOKEN": SECRET}
    if db:
        env["RELEASEGATE_DATABASE_URL"] = db
    return subprocess.run([*RG, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def _all_channels(tmp_path: Path, db: str | None) -> list[str]:
    leaks: list[str] = []
    check = _run(tmp_path, "check", "staging", "1.0", db=db)
    assert check.returncode == 0, check.stdout + check.stderr
    leaks += _leaks("terminal", check.stdout + check.stderr)
    as_json = _run(tmp_path, "--json", "check", "staging", "1.1", db=db)
    assert as_json.returncode == 0, as_json.stdout + as_json.stderr
    leaks += _leaks("--json", as_json.stdout + as_json.stderr)
    for fmt in ("text", "md", "json"):
        shown = _run(tmp_path, "show", "1", "--format", fmt, db=db)
        assert shown.returncode == 0, shown.stderr
        leaks += _leaks(f"show --format {fmt}", shown.stdout + shown.stderr)
    for path in (tmp_path / ".releasegate").rglob("*"):
        if path.is_file():
            leaks += _leaks(str(path.relative_to(tmp_path)), path.read_bytes())
    return leaks


def _api(tmp_path: Path) -> list[str]:
    """What the REST API answers about the same deployments (detail, list, events)."""
    import httpx
    from tests.web.conftest import serve

    from releasegate.service import tokens
    from releasegate.service.workspace import Workspace
    from releasegate.web import create_app

    (tmp_path / "api.yaml").write_text(
        (tmp_path / "releasegate.yaml").read_text().replace("project: leak\n", "project: leak\nusers: {ana: {roles: [admin]}}\n")
    )
    ws = Workspace(tmp_path / "api.yaml", f"sqlite:///{tmp_path / '.releasegate' / 'state.db'}")
    secret = tokens.create_token(ws, ws.actor(requested="ana", env_user=None), "leak", user="ana").secret
    leaks: list[str] = []
    for url in serve(create_app(lambda: ws)):
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {secret}"}) as api:
            for path in ("/api/v1/deployments", "/api/v1/deployments/1", "/api/v1/deployments/2"):
                answer = api.get(path)
                assert answer.status_code == 200, (path, answer.text)
                leaks += _leaks(f"GET {path}", answer.text)
            with api.stream("GET", "/api/v1/deployments/1/events", params={"follow": "false"},
                            timeout=10) as events:
                text = ""
                for chunk in events.iter_text():
                    text += chunk
                    if "deployment.finished" in text:
                        break
            leaks += _leaks("GET …/events", text)
    ws.close()
    return leaks


def test_no_channel_shows_the_secret_sqlite(tmp_path: Path, echo_url: str) -> None:
    (tmp_path / "releasegate.yaml").write_text(_config(echo_url))
    leaks = _all_channels(tmp_path, None)
    leaks += _api(tmp_path)
    assert leaks == []
    # the evidence was recorded (the redaction kept the record, not dropped it)
    shown = _run(tmp_path, "show", "1", "--format", "json")
    assert "***" in shown.stdout
    assert "dropped" in shown.stdout  # the cut output is there, with the secret hidden


@pytest.mark.postgres
def test_no_channel_shows_the_secret_postgresql(tmp_path: Path, echo_url: str, pg_url: str) -> None:
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    (tmp_path / "releasegate.yaml").write_text(_config(echo_url))
    leaks = _all_channels(tmp_path, pg_url)
    dump = subprocess.run(["pg_dump", "--data-only", pg_url.replace("+psycopg", "")],
                          capture_output=True, timeout=120, check=True)
    leaks += _leaks("pg_dump", dump.stdout)
    assert leaks == []
