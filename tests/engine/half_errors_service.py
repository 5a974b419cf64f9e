"""A real service for the verification tests, run as its own process.

``python half_errors_service.py PORT LIVE_FILE``: answers every request with the version
named in ``LIVE_FILE`` (what the target deployed). Version ``2.0`` is the bad build: it
answers 500 to every other request. A file ``LIVE_FILE.hits`` is touched on the first
request of the bad build, so tests can wait for the probe to reach it.
"""

from __future__ import annotations

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LIVE = Path(sys.argv[2])
COUNT = [0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once, not 40 ms apart

    def do_GET(self) -> None:
        version = LIVE.read_text().strip() if LIVE.exists() else "none"
        COUNT[0] += 1
        status = 500 if version == "2.0" and COUNT[0] % 2 == 0 else 200
        body = f"{version}\n".encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
