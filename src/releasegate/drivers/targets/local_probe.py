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


def accept_queue(port: int) -> int | None:
    """Connections waiting to be accepted on the listening socket of ``port`` (the kernel's
    accept queue, from /proc/net/tcp), or None when it cannot be read."""
    wanted = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # local address, remote address, state (0A: LISTEN), tx_queue:rx_queue
            if len(fields) > 4 and fields[1].endswith(wanted) and fields[3] == "0A":
                return int(fields[4].split(":")[1], 16)
    return None


def what_failed(error: str, port: int, timeout: float) -> str:
    """What the server did not do, from the client's error (an httpx exception's name)."""
    if error == "ReadTimeout":
        if accept_queue(port):
            return (
                "the server never accepted the connection (it waited in the socket's "
                "accept queue)"
            )
        return f"the server accepted the connection but sent no HTTP response within {timeout:g}s"
    return {
        "ConnectError": "the connection was refused (nothing listens there any more)",
        "ConnectTimeout": f"the connection was not established within {timeout:g}s",
        "RemoteProtocolError": "the server closed the connection without an HTTP response",
        "ReadError": "the server reset the connection",
    }.get(error, f"no answer ({error})")


def _explain(last: str, path: str, port: int, protocol: bool) -> str:
    """Turn the last probe outcome into what the server did not do.

    The probe address is a socket the supervisor made listening before the server started,
    so a server that never serves it shows as a connection left in the accept queue, not
    as a refused one."""
    if last.startswith("HTTP "):
        return f"GET {path} answered {last}, not 2xx"
    where = f"127.0.0.1:{port}"
    if protocol:
        return (
            f"GET {path} on its probe socket {where}: {last}: the server "
            "must serve the socket in RELEASEGATE_PROBE_FD (fd 4) until it reads `admit`; "
            "a server that only serves fd 3 needs `protocol: listen-fds`"
        )
    return (
        f"GET {path} on its private socket {where}: {last}: the server "
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
    last = "no connection was tried"
    per_request = 1.0
    # plain HTTP on 127.0.0.1: no TLS context (loading the CA bundle costs ~25 ms of CPU,
    # taken from the serving version on a busy machine)
    async with httpx.AsyncClient(timeout=per_request, verify=False) as client:
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                raise RuntimeError(
                    f"exited with code {proc.returncode} before it was healthy{last_log_line(log)}"
                )
            try:
                response = await client.get(url)
            except httpx.HTTPError as exc:
                last = what_failed(type(exc).__name__, port, per_request)
            else:
                if response.is_success:
                    return time.monotonic() - t0
                last = f"HTTP {response.status_code}"
            await asyncio.sleep(0.05)
    return _fail(last, path, port, protocol, timeout, log)


def _fail(last: str, path: str, port: int, protocol: bool, timeout: float, log: Path) -> float:
    reason = _explain(last, path, port, protocol)
    raise RuntimeError(f"{reason}, within {timeout:g}s{last_log_line(log)}")
