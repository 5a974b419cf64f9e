"""docs/api.md documents every route of the OpenAPI document, and no route that is gone."""

from __future__ import annotations

import re
from pathlib import Path

from releasegate.service.workspace import Workspace
from releasegate.web import create_app

API_DOC = Path(__file__).parents[2] / "docs" / "api.md"


def test_every_route_is_documented_and_every_documented_route_exists() -> None:
    schema = create_app(lambda: Workspace()).openapi()
    routes = {
        f"{method.upper()} {path}"
        for path, methods in schema["paths"].items()
        for method in methods
    }
    documented = set(re.findall(r"^\| `((?:GET|POST|DELETE|PUT|PATCH) [^`]+)`", API_DOC.read_text(), re.M))
    assert routes - documented == set(), "not in docs/api.md"
    assert documented - routes == set(), "documented but not served"


def test_every_page_route_is_documented() -> None:
    """The pages are left out of the OpenAPI document: docs/api.md's Pages section names
    each of them (a path in a code span, with its method when it is a form's POST)."""
    from releasegate.web import pages

    text = API_DOC.read_text()
    section = text[text.index("## Pages"):]
    section = section[: section.index("\n## ", 1)] if "\n## " in section[1:] else section
    for route in pages.router.routes:
        path = getattr(route, "path", "")
        for method in getattr(route, "methods", set()) - {"HEAD"}:
            wanted = f"`{path}`" if method == "GET" else f"`POST {path}`"
            assert wanted in section, f"{method} {path} is not in docs/api.md's Pages section"
