"""The health check of a new version on its private address, with a message that says what
the server failed to do."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path


def last_log_line(log: Path) -> str:
    """``; last log line: …`` of the version's log, or "" when it is empty."""
    try:
        lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return f"; last log line: {lines[-1].strip()}" if lines else ""


def _explain(last: str, path: str, port: int, protocol: bool) -> str:
    """Turn the last probe outcome into what the server did not do.

    The probe address is a socket the supervisor made listening before the server started,
    so a server that never serves it shows as a timeout, not as a refused connection."""
    if last.startswith("HTTP "):
        return f"GET {path} answered {last}, not 2xx"
    where = f"127.0.0.1:{port}"
    if protocol:
        return (
            f"GET {path} on its probe socket {where} got no answer ({last}): the server "
            "must serve the socket in RELEASEGATE_PROBE_FD (fd 4) until it reads `admit`; "
            "a server that only serves fd 3 needs `protocol: listen-fds`"
        )
    return (
        f"GET {path} on its private socket {where} got no answer ({last}): the server "
        f"must serve the sockets in LISTEN_FDS (fd 3 is `{{fd}}`) and answer {path} with 2xx"
    )


async def wait_healthy(
    proc: asyncio.subprocess.Process,
    port: int,
    path: str,
    timeout: float,
    log: Path,
    *,
    protocol: bool,
) -> float:
    """Poll ``GET path`` on ``127.0.0.1:port`` until 2xx; return the seconds it took.

    RuntimeError when the process exits first or ``timeout`` passes, naming what failed."""
    import httpx  # only where a request is sent

    url = f"http://127.0.0.1:{port}{path}"
    t0 = time.monotonic()
    deadline = t0 + timeout
    last = "no connection"
    async with httpx.AsyncClient(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                raise RuntimeError(
                    f"exited with code {proc.returncode} before it was healthy{last_log_line(log)}"
                )
            try:
                response = await client.get(url)
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            else:
                if response.is_success:
                    return time.monotonic() - t0
                last = f"HTTP {response.status_code}"
            await asyncio.sleep(0.05)
    return _fail(last, path, port, protocol, timeout, log)


def _fail(last: str, path: str, port: int, protocol: bool, timeout: float, log: Path) -> float:
    reason = _explain(last, path, port, protocol)
    raise RuntimeError(f"{reason}, within {timeout:g}s{last_log_line(log)}")
