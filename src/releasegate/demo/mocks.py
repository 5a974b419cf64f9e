"""Local stand-ins for Slack and the status page, for ``releasegate demo``.

One threaded HTTP server on 127.0.0.1 speaks two documented protocols, so the example's
``notify:`` route, ``notify`` and ``statuspage`` steps run unchanged against it or against
the real services:

* **Slack incoming webhooks**: ``POST /services/T…/B…/TOKEN`` with JSON
  ``{"text": …, "channel": …}`` (or a form field ``payload``) answers ``200 ok``. apprise's
  generic ``json://`` webhook reaches it with its keys renamed to Slack's
  (``?:message=text&:channel=%23deployments``); the ``title`` it sends as well (Slack
  ignores unknown keys) is kept as the message's first line. Bad JSON
  answers ``400 invalid_payload``, a message without text ``400 no_text``, another path
  ``404 no_service``.
* **Atlassian Statuspage REST API v1**, the incident endpoints:
  ``POST /v1/pages/{page_id}/incidents`` (201), ``PATCH|PUT …/incidents/{id}`` (200),
  ``GET …/incidents``, ``…/incidents/{id}``, ``…/incidents/active_maintenance``,
  ``…/incidents/scheduled``, ``…/incidents/unresolved``. Every call needs
  ``Authorization: OAuth <key>`` (401 otherwise); an unknown page or incident is 404, a
  status the incident type does not have is 422.

Nothing is logged: a webhook path holds its token.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, cast
from urllib.parse import parse_qs

REALTIME = ("investigating", "identified", "monitoring", "resolved", "postmortem")
MAINTENANCE = ("scheduled", "in_progress", "verifying", "completed")
_LISTS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "active_maintenance": lambda i: bool(i.get("scheduled_for")) and i["status"] in ("in_progress", "verifying"),
    "scheduled": lambda i: bool(i.get("scheduled_for")) and i["status"] == "scheduled",
    "unresolved": lambda i: i["status"] not in ("resolved", "postmortem", "completed"),
}


@dataclass(frozen=True)
class Message:
    """Something a deployment told people: a Slack post or a status page update."""

    service: Literal["slack", "statuspage"]
    where: str
    """``#channel`` for Slack; ``incident NAME (status)`` for the status page."""
    text: str
    subscribers_notified: bool = False
    """Statuspage: the update was delivered to the page's subscribers (the customers)."""


class MockServices:
    """The running server; :func:`start` makes one."""

    def __init__(self, *, page_id: str, api_key: str) -> None:
        self.page_id = page_id
        self.api_key = api_key
        self.webhook_path = f"/services/T0DEMO/B0DEMO/{secrets.token_hex(12)}"
        self._lock = threading.Lock()
        self._messages: list[Message] = []
        self._incidents: dict[str, dict[str, Any]] = {}
        self._failures: list[tuple[int, str]] = []
        self._http = _Server(("127.0.0.1", 0), _Handler)
        self._http.services = self
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, name="demo-mocks", daemon=True
        )

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    @property
    def webhook_url(self) -> str:
        """The Slack incoming webhook's URL (it holds the token: a secret)."""
        return self.base_url + self.webhook_path

    def env(self) -> dict[str, str]:
        """The variables the example's config reads, pointed at this server: the apprise
        URL of its ``notify:`` route and the status page's."""
        host = self.base_url.removeprefix("http://")
        return {
            "SLACK_NOTIFY_URL": f"json://{host}{self.webhook_path}?:message=text&:channel=%23deployments",
            "STATUSPAGE_PAGE_URL": f"{self.base_url}/v1/pages/{self.page_id}",
            "STATUSPAGE_API_KEY": self.api_key,
        }

    def messages(self) -> list[Message]:
        """Everything received so far, in order."""
        with self._lock:
            return list(self._messages)

    def incidents(self) -> list[dict[str, Any]]:
        """The status page's incidents (as the API returns them), oldest first."""
        with self._lock:
            return [json.loads(json.dumps(i)) for i in self._incidents.values()]

    def fail_next(self, status: int = 500, body: str = "rollup_error", *, count: int = 1) -> None:
        """Answer the next ``count`` requests with ``status`` and ``body`` (an outage)."""
        with self._lock:
            self._failures.extend([(status, body)] * count)

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)

    # -- used by the handler --------------------------------------------------------
    def _take_failure(self) -> tuple[int, str] | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    def _record(self, message: Message) -> None:
        with self._lock:
            self._messages.append(message)


def start(*, page_id: str = "cmktdemopage", api_key: str | None = None) -> tuple[MockServices, str]:
    """Start the server on a free port of 127.0.0.1; returns it and its base URL."""
    services = MockServices(page_id=page_id, api_key=api_key or secrets.token_hex(16))
    services._thread.start()
    return services, services.base_url


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    services: MockServices


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return None  # a webhook path holds its token: never log requests

    @property
    def services(self) -> MockServices:
        return cast(_Server, self.server).services

    def _send(self, status: int, body: str | bytes, content_type: str = "text/html") -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, value: object) -> None:
        self._send(status, json.dumps(value), "application/json; charset=utf-8")

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _dispatch(self, method: str) -> None:
        body = self._body()
        failure = self.services._take_failure()
        if failure:
            self._send(*failure)
        elif self.path.startswith("/services/"):
            self._slack(method, body)
        elif self.path.startswith("/v1/pages/"):
            self._statuspage(method, body)
        else:
            self._send(404, "not found")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    # -- Slack ------------------------------------------------------------------------
    def _slack(self, method: str, body: bytes) -> None:
        if method != "POST" or self.path != self.services.webhook_path:
            self._send(404, "no_service")
            return
        raw = body.decode("utf-8", "replace")
        if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            raw = (parse_qs(raw).get("payload") or [""])[0]
        try:
            payload = json.loads(raw)
        except ValueError:
            self._send(400, "invalid_payload")
            return
        if not isinstance(payload, dict):
            self._send(400, "invalid_payload")
            return
        text = payload.get("text")
        if not isinstance(text, str) or not text.strip():
            self._send(400, "no_text")
            return
        title = payload.get("title")
        if isinstance(title, str) and title.strip():
            text = f"{title.strip()}\n{text}"
        channel = payload.get("channel")
        where = channel if isinstance(channel, str) and channel else "#default"
        self.services._record(Message("slack", where, text))
        self._send(200, "ok")

    # -- Statuspage -------------------------------------------------------------------
    def _statuspage(self, method: str, body: bytes) -> None:
        services = self.services
        if self.headers.get("Authorization") != f"OAuth {services.api_key}":
            self._json(401, {"error": "Could not authenticate"})
            return
        parts = self.path.split("?")[0].strip("/").split("/")  # v1 pages ID incidents [X]
        if len(parts) < 4 or parts[2] != services.page_id or parts[3] not in ("incidents", "incidents.json"):
            self._json(404, {"error": "The requested resource could not be found."})
            return
        rest = parts[4] if len(parts) > 4 else None
        if rest is None and method == "GET":
            self._json(200, services.incidents()[::-1])
        elif rest in _LISTS and method == "GET":
            self._json(200, [i for i in services.incidents()[::-1] if _LISTS[rest](i)])
        elif rest is None and method == "POST":
            self._change(None, body)
        elif rest is not None and method == "GET":
            found = [i for i in services.incidents() if i["id"] == rest]
            if found:
                self._json(200, found[0])
            else:
                self._json(404, {"error": "Incident not found"})
        elif rest is not None and method in ("PATCH", "PUT"):
            self._change(rest, body)
        else:
            self._json(405, {"error": "Method not allowed"})

    def _change(self, incident_id: str | None, body: bytes) -> None:
        """Create (``incident_id`` None) or update an incident from ``{"incident": {...}}``."""
        try:
            fields = json.loads(body or b"{}").get("incident")
        except (ValueError, AttributeError):
            fields = None
        if not isinstance(fields, dict):
            self._json(400, {"error": "incident is missing"})
            return
        services = self.services
        with services._lock:
            incident = services._incidents.get(incident_id or "")
            if incident_id is not None and incident is None:
                self._json(404, {"error": "Incident not found"})
                return
            problem, incident = _apply(incident, fields, services.page_id)
            if problem:
                self._json(422, {"error": [problem]})
                return
            services._incidents[incident["id"]] = incident
            snapshot = json.loads(json.dumps(incident))
        update = incident["incident_updates"][0]
        services._record(Message(
            "statuspage", f"incident {incident['name']!r} ({incident['status']})", update["body"],
            subscribers_notified=bool(fields.get("deliver_notifications", False)),
        ))
        self._json(201 if incident_id is None else 200, snapshot)


def _apply(incident: dict[str, Any] | None, fields: dict[str, Any], page_id: str) -> tuple[str | None, dict[str, Any]]:
    """The incident after ``fields``; or a validation message as the API gives it."""
    now = _now()
    if incident is None:
        if not isinstance(fields.get("name"), str) or not fields["name"].strip():
            return "Name can't be blank", {}
        scheduled = bool(fields.get("scheduled_for"))
        incident = {
            "id": secrets.token_hex(6), "page_id": page_id, "name": fields["name"],
            "status": "scheduled" if scheduled else "investigating", "impact": "none",
            "created_at": now, "updated_at": now, "resolved_at": None,
            "scheduled_for": fields.get("scheduled_for"), "scheduled_until": fields.get("scheduled_until"),
            "shortlink": "https://stspg.io/demo", "incident_updates": [],
        }
    else:
        incident = dict(incident)
    allowed = MAINTENANCE if incident.get("scheduled_for") else REALTIME
    status = fields.get("status", incident["status"])
    if status not in allowed:
        return f"Status is not included in the list ({', '.join(allowed)})", {}
    for key in ("name", "scheduled_until", "impact_override"):
        if key in fields:
            incident[key] = fields[key]
    incident.update(status=status, updated_at=now)
    if status in ("resolved", "completed"):
        incident["resolved_at"] = now
    update = {
        "id": secrets.token_hex(6), "incident_id": incident["id"], "status": status,
        "body": str(fields.get("body") or ""), "created_at": now, "display_at": now,
        "deliver_notifications": bool(fields.get("deliver_notifications", False)),
    }
    incident["incident_updates"] = [update, *incident["incident_updates"]]
    return None, incident
