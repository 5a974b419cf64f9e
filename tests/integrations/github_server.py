"""A local server answering as GitHub's REST and GraphQL APIs do, for the parts releasegate
reads and writes: a commit's pull requests, reviews, check runs, the combined status, review
threads (GraphQL), deployments and deployment statuses.

Its answers start from fixtures recorded in GitHub's documented shapes (``fixtures/``);
lists are paginated as GitHub paginates them (``per_page``, ``page``, a ``Link`` header
with ``rel="next"``); a wrong token gets 401 ``Bad credentials``; ``rate_limited`` makes
every request a 403 with ``x-ratelimit-remaining: 0``; an unknown repository is a 404.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent / "fixtures"
REPO = "octo-org/shop"
MERGE_SHA = "9f1c2d3e4b5a69788766554433221100ffeeddcc"
HEAD_SHA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
TOKEN = "ghs_test0123456789abcdefTOKEN"
DEPLOYMENT_STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


@dataclass
class GitHubState:
    """What the fake GitHub knows; tests change it between requests."""

    port: int = 0
    token: str = TOKEN
    pulls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    reviews: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    threads: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    check_runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    statuses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    deployment_statuses: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    rate_limited: bool = False
    graphql_errors: list[dict[str, Any]] = field(default_factory=list)
    """Answered (with HTTP 200, as GitHub's GraphQL does) instead of data when set."""
    page_cap: int = 100
    """The most items a page holds, whatever per_page asks (2 forces pagination)."""
    log: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def recorded(cls) -> GitHubState:
        """The recorded pull request #42: merged as MERGE_SHA, two approvals (after a
        change request), resolved threads, green checks."""
        pull = fixture("commit_pulls.json")
        threads = fixture("review_threads.json")["data"]["repository"]["pullRequest"]["reviewThreads"]
        return cls(
            pulls={MERGE_SHA: pull, HEAD_SHA: copy.deepcopy(pull)},
            reviews={42: fixture("reviews.json")},
            threads={42: threads["nodes"]},
            check_runs={HEAD_SHA: fixture("check_runs.json")["check_runs"]},
            statuses={HEAD_SHA: fixture("combined_status.json")["statuses"]},
        )

    def states_of(self, deployment_id: int) -> list[str]:
        return [s["state"] for s in self.deployment_statuses.get(deployment_id, [])]


def _handler(gh: GitHubState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return None

        def _send(self, status: int, value: object, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-github-api-version-selected", "2022-11-28")
            for key, val in (headers or {}).items():
                self.send_header(key, val)
            self.end_headers()
            self.wfile.write(data)

        def _page(self, items: list[Any], query: dict[str, list[str]], key: str | None = None,
                  extra: dict[str, Any] | None = None) -> None:
            per_page = min(int(query.get("per_page", ["30"])[0]), gh.page_cap)
            page = int(query.get("page", ["1"])[0])
            chunk = items[(page - 1) * per_page: page * per_page]
            headers = {}
            if page * per_page < len(items):
                path = urlsplit(self.path).path
                rest = "".join(f"&{k}={v[0]}" for k, v in query.items() if k not in ("page", "per_page"))
                nxt = f"{gh.url}{path}?per_page={per_page}&page={page + 1}{rest}"
                last = f"{gh.url}{path}?per_page={per_page}&page={-(-len(items) // per_page)}{rest}"
                headers["Link"] = f'<{nxt}>; rel="next", <{last}>; rel="last"'
            body: object = chunk if key is None else {**(extra or {}), key: chunk}
            self._send(200, body, headers)

        def _route(self, method: str) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            split = urlsplit(self.path)
            query = parse_qs(split.query)
            gh.log.append((method, self.path, dict(self.headers)))
            if self.headers.get("Authorization") != f"Bearer {gh.token}":
                self._send(401, fixture("bad_credentials.json"))
                return
            if gh.rate_limited:
                reset = int(time.time()) + 600
                self._send(403, fixture("rate_limited.json"), {
                    "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0",
                    "x-ratelimit-used": "5000", "x-ratelimit-reset": str(reset),
                    "x-ratelimit-resource": "core"})
                return
            with gh.lock:
                if split.path == "/graphql" and method == "POST":
                    self._graphql(json.loads(body))
                    return
                prefix = f"/repos/{REPO}"
                if not split.path.startswith(prefix + "/"):
                    self._send(404, fixture("not_found.json"))
                    return
                parts = split.path[len(prefix) + 1:].split("/")
                self._repo(method, parts, query, json.loads(body) if body else None)

        def _repo(self, method: str, parts: list[str], query: dict[str, list[str]], body: Any) -> None:
            match (method, parts):
                case ("GET", ["commits", sha, "pulls"]):
                    if sha not in gh.pulls:
                        self._send(422, {"message": f"No commit found for SHA: {sha}",
                                         "documentation_url": "https://docs.github.com/rest",
                                         "status": "422"})
                    else:
                        self._page(gh.pulls[sha], query)
                case ("GET", ["pulls", number, "reviews"]):
                    self._page(gh.reviews.get(int(number), []), query)
                case ("GET", ["commits", sha, "check-runs"]):
                    runs = gh.check_runs.get(sha, [])
                    self._page(runs, query, "check_runs", {"total_count": len(runs)})
                case ("GET", ["commits", sha, "status"]):
                    found = gh.statuses.get(sha, [])
                    worst = "success" if all(s["state"] == "success" for s in found) else "failure"
                    self._page(found, query, "statuses", {"state": worst if found else "pending",
                                                          "sha": sha, "total_count": len(found)})
                case ("POST", ["deployments"]):
                    self._create_deployment(body)
                case ("GET", ["deployments"]):
                    env = query.get("environment", [None])[0]
                    listed = [d for d in reversed(gh.deployments) if env is None or d["environment"] == env]
                    self._page(listed, query)
                case ("POST", ["deployments", dep_id, "statuses"]):
                    self._create_status(int(dep_id), body)
                case _:
                    self._send(404, fixture("not_found.json"))

        def _create_deployment(self, body: dict[str, Any]) -> None:
            if not body or not body.get("ref"):
                self._send(422, {"message": "Invalid request.\n\n\"ref\" wasn't supplied.", "status": "422"})
                return
            dep = fixture("deployment.json")
            dep_id = len(gh.deployments) + 1
            dep.update({
                "id": dep_id, "url": f"{gh.url}/repos/{REPO}/deployments/{dep_id}",
                "ref": body["ref"], "sha": body["ref"], "task": body.get("task", "deploy"),
                "payload": body.get("payload", {}), "environment": body.get("environment", "production"),
                "original_environment": body.get("environment", "production"),
                "description": body.get("description"),
                "production_environment": body.get("production_environment",
                                                   body.get("environment", "production") == "production"),
                "transient_environment": body.get("transient_environment", False),
                "auto_merge": body.get("auto_merge", True),
                "required_contexts": body.get("required_contexts"),
            })
            gh.deployments.append(dep)
            self._send(201, dep)

        def _create_status(self, dep_id: int, body: dict[str, Any]) -> None:
            if not 1 <= dep_id <= len(gh.deployments):
                self._send(404, fixture("not_found.json"))
                return
            if body.get("state") not in DEPLOYMENT_STATES:
                self._send(422, {"message": "Validation Failed", "errors": [
                    {"resource": "DeploymentStatus", "code": "custom", "field": "state",
                     "message": "state is not included in the list"}], "status": "422"})
                return
            if len(body.get("description") or "") > 140:
                self._send(422, {"message": "Validation Failed", "errors": [
                    {"resource": "DeploymentStatus", "code": "custom", "field": "description",
                     "message": "description is too long (maximum is 140 characters)"}], "status": "422"})
                return
            status = fixture("deployment_status.json")
            status.update({"id": sum(map(len, gh.deployment_statuses.values())) + 1,
                           "state": body["state"], "description": body.get("description", ""),
                           "log_url": body.get("log_url", ""),
                           "environment_url": body.get("environment_url", ""),
                           "environment": gh.deployments[dep_id - 1]["environment"]})
            gh.deployment_statuses.setdefault(dep_id, []).append(status)
            if body["state"] == "success" and body.get("auto_inactive", True):
                env = gh.deployments[dep_id - 1]["environment"]
                for older in gh.deployments[: dep_id - 1]:
                    states = gh.states_of(older["id"])
                    if older["environment"] == env and states and states[-1] == "success":
                        gh.deployment_statuses[older["id"]].append({**status, "state": "inactive"})
            self._send(201, status)

        def _graphql(self, request: dict[str, Any]) -> None:
            query, variables = request.get("query", ""), request.get("variables", {})
            if gh.graphql_errors:
                self._send(200, {"data": None, "errors": gh.graphql_errors})
                return
            if "reviewThreads" not in query:
                self._send(200, {"errors": [{"message": "Field 'x' doesn't exist on type 'Query'"}]})
                return
            if f"{variables.get('owner')}/{variables.get('name')}" != REPO:
                self._send(200, {"data": {"repository": None}, "errors": [
                    {"type": "NOT_FOUND", "path": ["repository"],
                     "message": f"Could not resolve to a Repository with the name "
                                f"'{variables.get('owner')}/{variables.get('name')}'."}]})
                return
            nodes = gh.threads.get(int(variables["number"]), [])
            start = int(str(variables.get("after") or "cursor:0").split(":")[1])
            size = min(100, gh.page_cap)
            chunk = nodes[start:start + size]
            more = start + size < len(nodes)
            self._send(200, {"data": {"repository": {"pullRequest": {"reviewThreads": {
                "nodes": chunk, "pageInfo": {"hasNextPage": more, "endCursor": f"cursor:{start + size}"},
            }}}}})

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

    return Handler


@contextmanager
def github(state: GitHubState | None = None) -> Iterator[GitHubState]:
    """A running fake GitHub on a free loopback port."""
    gh = state or GitHubState.recorded()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(gh))
    server.daemon_threads = True
    gh.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield gh
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
