"""A small client of GitHub's REST and GraphQL APIs, for the ``github-review`` check and
the deployments observer.

It sends the headers GitHub documents (``Authorization: Bearer TOKEN``,
``Accept: application/vnd.github+json``, ``X-GitHub-Api-Version``), follows ``Link:
rel="next"`` for lists, and turns each refusal into a :class:`GitHubError` whose message
a person can act on — never containing the token:

* 401: the token is refused;
* 403 or 429 with ``x-ratelimit-remaining: 0``: the rate limit, with when it resets;
  with ``retry-after`` or a "secondary rate limit" message: how long to wait;
* 403 otherwise: the token lacks a permission (GitHub's message says which);
* 404: the repository (or the thing asked for) does not exist or the token cannot see it;
* GraphQL answers 200 with ``errors``: their messages.
"""

from __future__ import annotations

import functools
import re
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import JsonValue

from releasegate.errors import DriverError

if TYPE_CHECKING:
    import httpx

API_VERSION = "2022-11-28"
DEFAULT_API = "https://api.github.com"
MAX_PAGES = 50
"""Lists longer than this many pages (5000 items) are cut: nothing we read is that long."""
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class GitHubError(DriverError):
    """GitHub refused or could not be reached; the message says why (never the token)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for the process: building one reads the system's CA bundle (~20 ms
    of CPU), which every new client would otherwise pay again."""
    return ssl.create_default_context()


def graphql_url(api_url: str) -> str:
    """GitHub.com serves GraphQL at ``/graphql`` beside the REST root; GitHub Enterprise
    Server's REST root is ``…/api/v3`` and its GraphQL ``…/api/graphql``."""
    base = api_url.rstrip("/")
    if base.endswith("/api/v3"):
        return base.removesuffix("/v3") + "/graphql"
    return base + "/graphql"


_ENV_REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")


def plain_setting(value: str, *, what: str, environ: Mapping[str, str]) -> str:
    """A setting that is not a secret (a repository, a commit, a URL) with its
    ``${env:NAME}`` references filled in from ``environ``. Not resolved as a secret: a
    secret's value is redacted from every record, and "#42 of ***" helps nobody."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if not environ.get(name):
            raise GitHubError(f"{what}: ${{env:{name}}} is not set (GitHub Actions sets "
                              "GITHUB_REPOSITORY and GITHUB_SHA; elsewhere give the value)")
        return environ[name]

    return _ENV_REFERENCE.sub(one, value)


def check_repository(value: str) -> str:
    if not _REPOSITORY.match(value):
        raise GitHubError(f"repository {value!r} is not OWNER/NAME")
    return value


class GitHub:
    """One repository's API, over an ``httpx.AsyncClient`` the caller owns."""

    def __init__(self, client: httpx.AsyncClient, *, repository: str, token: str,
                 api_url: str = DEFAULT_API) -> None:
        self._client = client
        self.repository = check_repository(repository)
        self._token = token
        self.api_url = api_url.rstrip("/")

    @property
    def repo_url(self) -> str:
        return f"{self.api_url}/repos/{self.repository}"

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "releasegate",
        }

    async def request(self, method: str, path: str, *, json: Mapping[str, JsonValue] | None = None,
                      params: Mapping[str, str | int] | None = None, what: str = "") -> httpx.Response:
        """Send one request; a refusal raises :class:`GitHubError`. ``path`` is relative to
        the repository (``/pulls/3``) or a full URL (a ``next`` link)."""
        import httpx

        url = path if path.startswith(("http://", "https://")) else self.repo_url + path
        try:
            response = await self._client.request(method, url, headers=self._headers(), json=json,
                                                  params=params)
        except httpx.HTTPError as exc:
            raise GitHubError(f"GitHub cannot be reached at {self.api_url}: {exc.__class__.__name__}") from exc
        if response.status_code >= 400:
            raise _refusal(response, what or f"{method} {path}", self.repository)
        return response

    async def get(self, path: str, *, what: str = "", params: Mapping[str, str | int] | None = None
                  ) -> JsonValue:
        return _json(await self.request("GET", path, what=what, params=params))

    async def get_list(self, path: str, *, what: str = "", key: str | None = None,
                       params: Mapping[str, str | int] | None = None) -> list[JsonValue]:
        """Every item of a paginated list (``key`` names the list inside an object answer,
        as ``check_runs`` in ``{"total_count": …, "check_runs": […]}``)."""
        items: list[JsonValue] = []
        url: str | None = path
        query: Mapping[str, str | int] | None = {"per_page": 100, **(params or {})}
        for _ in range(MAX_PAGES):
            if url is None:
                break
            response = await self.request("GET", url, what=what, params=query)
            body = _json(response)
            page = body.get(key) if key and isinstance(body, dict) else body
            if not isinstance(page, list):
                raise GitHubError(f"GitHub answered {what or path} with an unexpected shape")
            items.extend(page)
            found = _NEXT.search(response.headers.get("link", ""))
            url, query = (found.group(1), None) if found else (None, None)
        return items

    async def post(self, path: str, body: Mapping[str, JsonValue], *, what: str = "") -> JsonValue:
        return _json(await self.request("POST", path, json=body, what=what))

    async def graphql(self, query: str, variables: Mapping[str, JsonValue], *, what: str) -> JsonValue:
        """The ``data`` of a GraphQL answer; its ``errors`` raise."""
        response = await self.request("POST", graphql_url(self.api_url),
                                      json={"query": query, "variables": dict(variables)}, what=what)
        body = _json(response)
        if not isinstance(body, dict):
            raise GitHubError(f"GitHub answered {what} with an unexpected shape")
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            said = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
            raise GitHubError(f"GitHub refused {what}: {said}")
        return body.get("data")


def _json(response: httpx.Response) -> JsonValue:
    try:
        value: JsonValue = response.json()
    except ValueError as exc:
        raise GitHubError(f"GitHub answered {response.request.url.path} with something that is "
                          "not JSON") from exc
    return value


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip()
    return str(body.get("message", "")) if isinstance(body, dict) else ""


def _refusal(response: httpx.Response, what: str, repository: str) -> GitHubError:
    status = response.status_code
    said = _message(response)
    headers = response.headers
    if status == 401:
        return GitHubError(f"GitHub refused the token (401 {said or 'Bad credentials'}): "
                           "check the secret the token comes from", status=status)
    if status in (403, 429):
        if headers.get("x-ratelimit-remaining") == "0":
            reset = headers.get("x-ratelimit-reset", "")
            when = ""
            if reset.isdigit():
                at = datetime.fromtimestamp(int(reset), UTC)
                wait = max(0, int((at - datetime.now(UTC)).total_seconds()))
                when = f"; it resets at {at:%H:%M:%S} UTC (in {wait}s)"
            limit = headers.get("x-ratelimit-limit", "?")
            return GitHubError(f"GitHub rate limit reached ({limit} requests an hour for this "
                               f"token){when}: stopped at {what}", status=status)
        retry = headers.get("retry-after")
        if retry or "secondary rate limit" in said.lower():
            wait_s = f"{retry}s" if retry else "a minute"
            return GitHubError(f"GitHub's secondary rate limit: wait {wait_s} before trying "
                               f"again ({what})", status=status)
        return GitHubError(f"GitHub refused {what} (403: {said}): the token lacks a permission "
                           "this needs", status=status)
    if status == 404:
        return GitHubError(f"GitHub answered 404 Not Found for {what} in {repository}: the "
                           "repository does not exist or the token cannot see it", status=status)
    return GitHubError(f"GitHub answered {status} for {what}: {said}", status=status)
