"""What ``http-check``, ``version-check``, ``smoke`` and ``maintenance`` share: URLs,
expectations on a response, dotted JSON paths and readable transport errors.

httpx (~45 ms to import) is imported where a request is sent, not here: validating a
config reads the options models of these drivers and sends nothing.
"""

from __future__ import annotations

import functools
import ssl
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pydantic import Field, JsonValue

from releasegate.config.types import Duration
from releasegate.drivers.api import Options
from releasegate.errors import DriverError

if TYPE_CHECKING:
    import httpx

_MISSING = object()


def join_url(base: str | None, path: str) -> str:
    """``path`` if it is a full URL, else ``base`` + ``path``."""
    if path.startswith(("http://", "https://")):
        return path
    if not base:
        raise DriverError(
            f"{path!r} is a relative path but the environment has no url (give a full URL)"
        )
    if path in ("", "/") and urlsplit(base).path.strip("/"):
        return base  # the url names the endpoint itself (…/health.json): no trailing slash
    return base.rstrip("/") + "/" + path.lstrip("/")


def json_path(data: object, path: str) -> object:
    """The value at a dotted path (``data.items.0.id``); a missing one raises KeyError."""
    current = data
    for part in path.split(".") if path else []:
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.lstrip("-").isdigit() and -len(current) <= int(part) < len(current):
            current = current[int(part)]
        else:
            raise KeyError(path)
    return current


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def describe_error(exc: httpx.HTTPError) -> str:
    """A one-line reason for a transport failure: refused, reset, timed out, ..."""
    import httpx

    causes = _causes(exc)
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return "connection refused"
    if any(isinstance(c, ConnectionResetError | BrokenPipeError) for c in causes):
        return "connection reset by peer"
    if isinstance(exc, httpx.TimeoutException):
        return "no response in time"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "connection closed without a response"
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        return "connection refused" if "refused" in text.lower() else f"could not connect: {text}"
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return f"connection broken: {text}"
    return text


class Expect(Options):
    """What a response must satisfy."""

    status: int | list[int] = Field(200, description="Expected status code (or a list of them).")
    json_: dict[str, JsonValue] = Field(
        default_factory=dict,
        alias="json",
        description="Dotted JSON paths and the values they must equal, e.g. {status: ok}.",
    )
    body_contains: list[str] = Field(
        default_factory=list, description="Strings the body must contain."
    )
    max_latency: Duration | None = Field(
        None, description="Latency budget for the response, e.g. 500ms."
    )


@dataclass(frozen=True)
class Outcome:
    """One request and what was wrong with its response (empty ``problems``: it passed)."""

    method: str
    url: str
    status: int | None
    latency_ms: float
    problems: tuple[str, ...]
    response: httpx.Response | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        head = f"{self.method} {self.url}"
        if self.ok:
            return f"{head}: {self.status} in {self.latency_ms:.0f} ms"
        return f"{head}: " + "; ".join(self.problems)

    def evidence(self) -> dict[str, JsonValue]:
        return {
            "method": self.method,
            "url": self.url,
            "status": self.status,
            "latency_ms": round(self.latency_ms, 1),
            "ok": self.ok,
            "problems": list(self.problems),
        }


def check_response(response: httpx.Response, latency: timedelta, expect: Expect) -> list[str]:
    """Every way ``response`` misses ``expect``."""
    problems: list[str] = []
    wanted = expect.status if isinstance(expect.status, list) else [expect.status]
    if response.status_code not in wanted:
        shown = wanted[0] if len(wanted) == 1 else wanted
        problems.append(f"status {response.status_code}, expected {shown}")
    if expect.json_:
        try:
            data = response.json()
        except ValueError:
            problems.append("body is not JSON")
        else:
            for path, value in expect.json_.items():
                try:
                    found = json_path(data, path)
                except KeyError:
                    problems.append(f"json {path} is missing")
                    continue
                if found != value:
                    problems.append(f"json {path} is {found!r}, expected {value!r}")
    for needle in expect.body_contains:
        if needle not in response.text:
            problems.append(f"body does not contain {needle!r}")
    if expect.max_latency is not None and latency > expect.max_latency:
        problems.append(
            f"took {latency.total_seconds() * 1000:.0f} ms, budget "
            f"{expect.max_latency.total_seconds() * 1000:.0f} ms"
        )
    return problems


async def request(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    expect: Expect,
    **kwargs: object,
) -> Outcome:
    """Send one request and check it; a transport error is an outcome, not an exception."""
    import httpx

    started = time.monotonic()
    try:
        response = await client.request(method, url, **kwargs)  # type: ignore[arg-type]
    except httpx.HTTPError as exc:
        elapsed = (time.monotonic() - started) * 1000
        return Outcome(method, url, None, elapsed, (describe_error(exc),))
    latency = timedelta(seconds=time.monotonic() - started)
    problems = check_response(response, latency, expect)
    return Outcome(
        method,
        url,
        response.status_code,
        latency.total_seconds() * 1000,
        tuple(problems),
        response,
    )


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: loading the CA bundle costs ~20 ms, and
    building it for every HTTP step made a 20-check plan spend 0.4 s on nothing else."""
    return ssl.create_default_context()


def http_client(*, timeout: float) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` for driver use, sharing the process's TLS context."""
    import httpx

    return httpx.AsyncClient(timeout=timeout, verify=tls_context())
