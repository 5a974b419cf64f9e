"""CPU time of the ``notify`` step against a local JSON webhook, beside a floor measured
in the same run: the same POSTs made with the standard library.

    PYTHONPATH=src python benchmarks/bench_notify_step.py [--messages 200]

The step renders a built-in message, parses the apprise URL once per channel and sends
through apprise; the floor is ``urllib.request`` posting the same JSON. CPU time
(``resource.getrusage``) of this process, server thread included on both sides.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from releasegate.drivers.api import Release
from releasegate.drivers.checks.notify import Notify, NotifyOptions
from releasegate.testing import StaticSecrets, make_context


class _Sink(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200)
    n = parser.parse_args().messages
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    url = f"json://127.0.0.1:{port}/hooks/bench?:message=text"
    with TemporaryDirectory() as tmp:
        ctx = make_context(release=Release(environment="production", version="1.2.0"),
                           workdir=Path(tmp), secrets=StaticSecrets({"HOOK": url}))
        options = NotifyOptions.model_validate({"to": "${env:HOOK}", "message": "starting"})
        driver = Notify()
        asyncio.run(driver.run(options, ctx))  # warm: imports apprise and its json plugin

        async def steps() -> None:
            for _ in range(n):
                result = await driver.run(options, ctx)
                assert result.ok, result.summary

        start = _cpu()
        asyncio.run(steps())
        step_ms = (_cpu() - start) / n * 1000
    body = json.dumps({"title": "🚀 Deploying 1.2.0 to production", "text": "normal deployment #1"}).encode()
    start = _cpu()
    for _ in range(n):
        req = urllib.request.Request(f"http://127.0.0.1:{port}/hooks/bench", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()
    floor_ms = (_cpu() - start) / n * 1000
    server.shutdown()
    print(f"notify step: {step_ms:.2f} ms CPU per message ({n} messages)")
    print(f"floor (urllib POST): {floor_ms:.2f} ms CPU per message")
    print(f"ratio: {step_ms / floor_ms:.1f} x")


if __name__ == "__main__":
    main()
