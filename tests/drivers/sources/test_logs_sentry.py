"""log-scan against real files and commands; sentry against a local server that answers
as Sentry's Discover endpoint (``GET /api/0/organizations/{org}/events/``) does."""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from releasegate.drivers.api import Release
from releasegate.drivers.sources.log_scan import LogScan
from releasegate.drivers.sources.sentry import Sentry
from releasegate.errors import DriverError
from releasegate.testing import StaticSecrets, make_context
from sources.conftest import read_source


def _append(path: Path, text: str) -> None:
    with path.open("a") as handle:
        handle.write(text)


def test_log_scan_counts_only_lines_written_since_the_stage_began(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("CRITICAL old trouble\nERROR old\n")
    scan, ctx = LogScan(), make_context(workdir=tmp_path)
    [began] = read_source(scan, {"path": "app.log"}, seconds=0, ctx=ctx)  # the stage begins
    _append(log, "INFO fine\nERROR db timeout\nTraceback (most recent call last):\nERROR again\n")
    [sample] = read_source(scan, {"path": "app.log"}, seconds=0, ctx=ctx)
    assert began.values == {"log_critical": 0.0, "log_errors": 0.0}
    assert sample.values == {"log_critical": 1.0, "log_errors": 2.0}
    [whole] = read_source(LogScan(), {"path": "app.log", "from": "start"}, seconds=0, ctx=ctx)
    assert whole.values == {"log_critical": 2.0, "log_errors": 3.0}


def test_log_scan_keeps_its_place_waits_for_whole_lines_and_follows_rotation(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("")
    scan = LogScan()
    options = {"path": "app.log", "patterns": {"payment_failures": "payment failed"}}
    ctx = make_context(workdir=tmp_path)
    counts = [read_source(scan, options, seconds=0, ctx=ctx)[0].values["payment_failures"]]
    _append(log, "payment failed: card 1\npayment fai")
    counts.append(read_source(scan, options, seconds=0, ctx=ctx)[0].values["payment_failures"])
    _append(log, "led: card 2\n")
    counts.append(read_source(scan, options, seconds=0, ctx=ctx)[0].values["payment_failures"])
    log.rename(tmp_path / "app.log.1")
    (tmp_path / "app.log").write_text("payment failed: card 3\npayment failed: card 4\n")
    counts.append(read_source(scan, options, seconds=0, ctx=ctx)[0].values["payment_failures"])
    assert counts == [0.0, 1.0, 1.0, 2.0]


def test_log_scan_of_a_command_fills_in_the_interval(tmp_path: Path) -> None:
    script = "import sys; print('since', sys.argv[1]); print('FATAL: out of memory'); print('ok')"
    [sample] = read_source(LogScan(), {"command": [sys.executable, "-c", script, "{since}"],
                                       "patterns": {"fatal": "FATAL", "since": r"since \d{4}-\d\d-\d\dT"}})  # fmt: skip
    assert sample.values == {"fatal": 1.0, "since": 1.0}
    with pytest.raises(DriverError, match=r"^log-scan: .+ exited with 3$"):
        read_source(LogScan(), {"command": [sys.executable, "-c", "raise SystemExit(3)"]})


def test_log_scan_needs_a_path_or_a_command() -> None:
    with pytest.raises(DriverError, match="log-scan: give exactly one of path and command"):
        read_source(LogScan(), {})


# -- sentry -------------------------------------------------------------------------------

TOKEN = "sntrys_test-token-value"


@dataclass
class SentryStandIn:
    """Error events, and the Discover query endpoint over them."""

    url: str = ""
    events: list[dict[str, object]] = field(default_factory=list)
    limited: bool = False
    queries: list[dict[str, list[str]]] = field(default_factory=list)

    def answer(self, path: str, query: dict[str, list[str]], auth: str | None) -> tuple[int, object]:
        self.queries.append(query)
        if not re.fullmatch(r"/api/0/organizations/[\w-]+/events/", path):
            return 404, {"detail": "The requested resource does not exist"}
        if auth != f"Bearer {TOKEN}":
            return 401, {"detail": "Invalid token"}
        if self.limited:
            return 429, {"detail": "You are attempting to use this endpoint too frequently."}
        start = datetime.fromisoformat(query["start"][0]).timestamp()
        end = datetime.fromisoformat(query["end"][0]).timestamp()
        terms = dict(t.split(":", 1) for t in query["query"][0].split())
        release = terms.get("release", "").strip('"')
        projects = {int(p) for p in query.get("project", [])}
        chosen = [
            e for e in self.events
            if e["release"] == release and e["type"] == terms.get("event.type", "error")
            and start <= float(str(e["timestamp"])) < end
            and (not projects or e["project"] in projects)
            and ("level" not in terms or e["level"] == terms["level"])
        ]  # fmt: skip
        row = {"count()": len(chosen), "count_unique(issue)": len({e["issue"] for e in chosen})}
        return 200, {"data": [row], "meta": {"fields": {"count()": "integer", "count_unique(issue)": "integer"}}}


@pytest.fixture
def sentry() -> Iterator[SentryStandIn]:
    stand_in = SentryStandIn()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            status, body = stand_in.answer(parts.path, parse_qs(parts.query), self.headers.get("Authorization"))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if status == 429:
                self.send_header("Retry-After", "30")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stand_in.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield stand_in
    server.shutdown()
    server.server_close()


def _event(release: str, at: float, issue: int, *, project: int = 5, level: str = "error") -> dict[str, object]:
    return {"release": release, "timestamp": at, "issue": issue, "project": project, "type": "error", "level": level}


def test_sentry_counts_the_release_errors_in_the_interval_only(sentry: SentryStandIn) -> None:
    soon = time.time() + 1  # inside the 2 s interval that begins in a moment
    sentry.events = [
        _event("1.2.1", soon, 1), _event("1.2.1", soon, 1), _event("1.2.1", soon, 2),
        _event("1.2.0", soon, 3),              # another release
        _event("1.2.1", soon - 300, 4),        # before the interval
        _event("1.2.1", soon, 5, project=9),   # another project
    ]  # fmt: skip
    ctx = make_context(release=Release(environment="production", version="1.2.1"),
                       secrets=StaticSecrets({"SENTRY_TOKEN": TOKEN}))  # fmt: skip
    options = {"url": sentry.url, "organization": "camarketplace", "token": "${env:SENTRY_TOKEN}",
               "project": [5], "environment": "production"}  # fmt: skip
    [sample] = read_source(Sentry(), options, seconds=2.0, ctx=ctx)
    assert sample.values == {"sentry_errors": 3.0, "sentry_issues": 2.0}
    sent = sentry.queries[-1]
    assert sent["field"] == ["count()", "count_unique(issue)"]
    assert sent["query"] == ['release:"1.2.1" event.type:error']
    assert (sent["dataset"], sent["environment"], sent["project"]) == (["errors"], ["production"], ["5"])


def test_sentry_refusing_or_limiting_us_is_unreadable_without_the_token(sentry: SentryStandIn) -> None:
    ctx = make_context(secrets=StaticSecrets({"SENTRY_TOKEN": "wrong-token-value"}))
    options = {"url": sentry.url, "organization": "acme", "token": "${env:SENTRY_TOKEN}"}
    with pytest.raises(DriverError) as err:
        read_source(Sentry(), options, seconds=0, ctx=ctx)
    assert str(err.value) == f"sentry at {sentry.url} refused the token (HTTP 401)"
    sentry.limited = True
    with pytest.raises(DriverError, match=r"is rate-limiting us \(Retry-After 30s\)"):
        read_source(Sentry(), {**options, "token": TOKEN}, seconds=0)
