"""``smoke`` flows against a real HTTP server: login → capture token → authorised calls."""

from __future__ import annotations

from pathlib import Path

import pytest
from httpapp import AppServer, Request

from releasegate.drivers.api import Release
from releasegate.drivers.checks.smoke import Smoke
from releasegate.testing import StaticSecrets, run_driver

LOGIN_FLOW = """
name: login
requests:
  - name: log in
    method: POST
    path: /api/login
    json: {email: qa@example.com, password: "{{password}}"}
    capture: {token: json.access_token}
    expect: {status: 200, json: {user.role: client}}
  - name: my requests
    path: /api/requests
    headers: {Authorization: "Bearer {{token}}"}
    expect: {status: 200, body_contains: [GST filing], max_latency: 2s}
"""

UPLOAD_FLOW = """
- name: upload
  requests:
    - method: POST
      path: /api/upload
      files: {document: fixtures/invoice.pdf}
      expect: {status: 201}
- name: version
  requests:
    - path: /monitoring/version
      expect: {json: {version: "{{version}}"}}
"""


@pytest.fixture
def api(app_server: AppServer) -> AppServer:
    def login(req: Request) -> tuple[int, object]:
        body = req.json()
        assert isinstance(body, dict)
        if body.get("password") != "pa55word":
            return 401, {"error": "bad credentials"}
        return 200, {"access_token": "tok-42", "user": {"role": "client"}}

    def requests_(req: Request) -> tuple[int, object]:
        if req.headers.get("Authorization") != "Bearer tok-42":
            return 401, {"error": "unauthorised"}
        return 200, {"items": [{"title": "GST filing"}]}

    def upload(req: Request) -> tuple[int, object]:
        ok = b'name="document"' in req.body and b"%PDF-1.4" in req.body
        return (201, {"id": 7}) if ok else (400, {"error": "no file"})

    app_server.routes[("POST", "/api/login")] = login
    app_server.routes[("GET", "/api/requests")] = requests_
    app_server.routes[("POST", "/api/upload")] = upload
    app_server.route("GET", "/monitoring/version", body={"version": "2.1.0"})
    return app_server


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    (tmp_path / "smoke").mkdir()
    (tmp_path / "smoke" / "01-login.yaml").write_text(LOGIN_FLOW)
    (tmp_path / "smoke" / "02-more.yaml").write_text(UPLOAD_FLOW)
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "invoice.pdf").write_bytes(b"%PDF-1.4 fake invoice")
    return tmp_path


def test_directory_of_flows_passes(api: AppServer, flows_dir: Path) -> None:
    result = run_driver(
        Smoke(),
        {"flows": "smoke/", "vars": {"password": "${env:QA_PASSWORD}"}},
        url=api.url,
        workdir=flows_dir,
        release=Release("staging", "2.1.0"),
        secrets=StaticSecrets({"QA_PASSWORD": "pa55word"}),
    )
    assert result.ok, result.summary
    assert result.summary == "3 flows passed (4 requests)"
    flows = result.evidence["flows"]
    assert [f["flow"] for f in flows] == ["login", "upload", "version"]  # type: ignore[index,union-attr]
    assert "pa55word" not in str(result.evidence)


def test_failing_request_stops_its_flow_and_names_it(api: AppServer, flows_dir: Path) -> None:
    result = run_driver(
        Smoke(),
        {"flows": "smoke/01-login.yaml", "vars": {"password": "${env:QA_PASSWORD}"}},
        url=api.url,
        workdir=flows_dir,
        secrets=StaticSecrets({"QA_PASSWORD": "wrong"}),
    )
    assert not result.ok
    assert result.summary == (
        "flow login failed at log in: status 401, expected 200; json user.role is missing"
    )
    flow = result.evidence["flows"][0]  # type: ignore[index]
    assert flow["skipped"] == 1  # type: ignore[index,call-overload]


def test_inline_flow_and_unknown_variable(api: AppServer, tmp_path: Path) -> None:
    result = run_driver(
        Smoke(),
        {"flows": [{"name": "bad", "requests": [{"path": "/api/{{nope}}"}]}]},
        url=api.url,
        workdir=tmp_path,
    )
    assert not result.ok
    assert result.summary == "flow bad failed at GET /api/{{nope}}: unknown variable {{nope}}"


def test_missing_flow_file_is_a_clear_failure(tmp_path: Path) -> None:
    result = run_driver(Smoke(), {"flows": "smoke/"}, workdir=tmp_path, url="http://127.0.0.1:1")
    assert not result.ok
    assert result.summary == "smoke/: no such smoke flow file or directory"


def test_invalid_flow_file_names_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "flow.yaml").write_text("requests:\n  - method: GET\n")
    result = run_driver(Smoke(), {"flows": "flow.yaml"}, workdir=tmp_path, url="http://127.0.0.1:1")
    assert not result.ok
    assert result.summary == "flow.yaml: requests.0.path: Field required"


def test_refused_connection_fails_the_flow(refused_url: str, tmp_path: Path) -> None:
    result = run_driver(
        Smoke(), {"flows": [{"name": "home", "requests": [{"path": "/"}]}]}, url=refused_url, workdir=tmp_path
    )
    assert not result.ok
    assert result.summary == "flow home failed at GET /: connection refused"
