"""A minimal HTTP/1.1 client over asyncio streams, for the probe.

The probe only needs the status of each response, at rates where a general client's
per-request cost shows up as schedule slip on one core. This client keeps a pool of
keep-alive connections, writes prepared request bytes and reads the status line, the
headers and the body (``Content-Length``, chunked, or until the server closes).
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

_Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]
_HEAD_LIMIT = 256 * 1024


class ProtocolError(Exception):
    """The server answered something that is not HTTP/1.x."""


@dataclass(frozen=True)
class Origin:
    """Where requests go: scheme, host and port of a base URL, and its path prefix."""

    scheme: str
    host: str
    port: int
    prefix: str

    @classmethod
    def of(cls, url: str) -> Origin:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http:// or https:// URL")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(parts.scheme, parts.hostname, port, parts.path.rstrip("/"))

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


def build_request(
    origin: Origin, method: str, path: str, *, headers: dict[str, str], body: bytes
) -> bytes:
    """The bytes of one request (sent again and again: built once)."""
    target = path if path.startswith("/") else "/" + path
    lines = [f"{method} {origin.prefix}{target} HTTP/1.1", f"Host: {origin.host_header}"]
    named = {k.lower() for k in headers}
    if "user-agent" not in named:
        lines.append("User-Agent: releasegate-probe")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Pool:
    """Keep-alive connections to one origin, at most ``size`` open at once."""

    def __init__(self, origin: Origin, *, size: int) -> None:
        self._origin = origin
        self._idle: deque[_Conn] = deque()
        self._slots = asyncio.Semaphore(size)
        self._ssl = ssl.create_default_context() if origin.scheme == "https" else None
        self._closed = False

    async def request(self, raw: bytes, *, head: bool = False) -> int:
        """Send ``raw`` and read the whole response; returns its status code.

        Raises OSError (refused, reset), ProtocolError, or asyncio.IncompleteReadError
        when the server closes the connection mid-response. A caller's cancellation
        (its timeout) closes the connection in use. A kept-alive connection the server
        closed while it was idle is replaced once, as browsers do: that is not an error
        of the service.
        """
        async with self._slots:
            conn, reused = await self._connect()
            try:
                return await self._exchange(conn, raw, head=head)
            except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError) as exc:
                nothing = not isinstance(exc, asyncio.IncompleteReadError) or not exc.partial
                if not (reused and nothing):
                    raise
            return await self._exchange(await self._open(), raw, head=head)

    async def _exchange(self, conn: _Conn, raw: bytes, *, head: bool) -> int:
        keep = False
        try:
            conn[1].write(raw)
            status, keep = await _read_response(conn[0], head=head)
            return status
        finally:
            if keep and not self._closed:
                self._idle.append(conn)
            else:
                conn[1].close()

    async def _connect(self) -> tuple[_Conn, bool]:
        """A connection, and whether it was kept alive from an earlier request."""
        while self._idle:
            reader, writer = self._idle.pop()  # the most recently used: the least likely stale
            if not reader.at_eof() and not writer.is_closing():
                return (reader, writer), True
            writer.close()
        return await self._open(), False

    async def _open(self) -> _Conn:
        return await asyncio.open_connection(
            self._origin.host, self._origin.port, ssl=self._ssl, limit=_HEAD_LIMIT
        )

    async def close(self) -> None:
        """Close every idle connection (those in use close when their request ends)."""
        self._closed = True
        while self._idle:
            self._idle.popleft()[1].close()


async def _read_response(reader: asyncio.StreamReader, *, head: bool) -> tuple[int, bool]:
    """The status of the response on ``reader`` and whether the connection may be reused."""
    try:
        block = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError as exc:
        raise ProtocolError("response headers larger than 256 KiB") from exc
    status_line, *header_lines = block[:-4].split(b"\r\n")
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError(f"not an HTTP/1.x response: {status_line[:60]!r}")
    status = int(parts[1])
    headers: dict[bytes, bytes] = {}
    for line in header_lines:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip().lower()
    keep = parts[0] == b"HTTP/1.1" and headers.get(b"connection") != b"close"
    if head or status in (204, 304) or 100 <= status < 200:
        return status, keep
    if b"chunked" in headers.get(b"transfer-encoding", b""):
        await _read_chunked(reader)
    elif b"content-length" in headers:
        await reader.readexactly(int(headers[b"content-length"]))
    else:
        await reader.read()  # the body runs until the server closes
        keep = False
    return status, keep


async def _read_chunked(reader: asyncio.StreamReader) -> None:
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                pass
            return
        await reader.readexactly(size + 2)
