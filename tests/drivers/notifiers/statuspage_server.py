"""A local server speaking the part of Atlassian Statuspage's REST API v1 the step uses."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAINTENANCE = ("scheduled", "in_progress", "verifying", "completed")


@dataclass
class Page:
    page_id: str = "pg123"
    api_key: str = field(default_factory=lambda: secrets.token_hex(8))
    port: int = 0
    incidents: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/pages/{self.page_id}"


def _handler(page: Page) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return None

        def _json(self, status: int, value: object) -> None:
            data = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self, method: str) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Authorization") != f"OAuth {page.api_key}":
                self._json(401, {"error": "Could not authenticate"})
                return
            prefix = f"/v1/pages/{page.page_id}/incidents"
            if not self.path.startswith(prefix):
                self._json(404, {"error": "The requested resource could not be found."})
                return
            rest = self.path[len(prefix):].strip("/")
            with page.lock:
                if method == "GET" and rest == "unresolved":
                    self._json(200, [i for i in page.incidents.values() if i["status"] != "completed"])
                elif method == "POST" and not rest:
                    fields = json.loads(body)["incident"]
                    if not fields.get("name"):
                        self._json(422, {"error": ["Name can't be blank"]})
                        return
                    incident = {"id": secrets.token_hex(4), "shortlink": "https://stspg.io/x",
                                "incident_updates": [], **fields}
                    incident["incident_updates"] = [{"body": fields.get("body", ""),
                                                     "status": fields["status"]}]
                    page.incidents[incident["id"]] = incident
                    self._json(201, incident)
                elif method == "PATCH" and rest in page.incidents:
                    fields = json.loads(body)["incident"]
                    incident = page.incidents[rest]
                    if fields.get("status", incident["status"]) not in MAINTENANCE:
                        self._json(422, {"error": ["Status is not included in the list"]})
                        return
                    incident.update({k: v for k, v in fields.items() if k != "body"})
                    incident["incident_updates"].insert(0, {"body": fields.get("body", ""),
                                                            "status": incident["status"]})
                    self._json(200, incident)
                else:
                    self._json(404, {"error": "Incident not found"})

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_PATCH(self) -> None:
            self._route("PATCH")

    return Handler


@contextmanager
def statuspage() -> Iterator[Page]:
    """A page on 127.0.0.1 for the duration of the block."""
    page = Page()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(page))
    page.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield page
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
