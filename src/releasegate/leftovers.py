"""Process groups a deployment's commands run in, recorded on disk while they run, so that
``releasegate resume`` can stop what a killed releasegate left behind before it re-checks
or rolls back — two things must never act on an environment at once.

Each running command leaves a file ``<dir>/<pgid>`` holding the process's start time (from
``/proc``), so that a pid reused since cannot be mistaken for the command.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path


def _started(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22: start time since boot


def record(directory: Path, pgid: int) -> Path | None:
    """Note that process group ``pgid`` runs for this deployment (None if it cannot be)."""
    started = _started(pgid)
    if started is None:
        return None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        ignore = directory.parent / ".gitignore"
        if not ignore.exists():  # bookkeeping, never part of the user's git tree
            ignore.write_text("*\n")
        marker = directory / str(pgid)
        marker.write_text(started)
    except OSError:
        return None
    return marker


def forget(marker: Path | None) -> None:
    if marker is not None:
        with contextlib.suppress(OSError):
            marker.unlink()


def stop_leftovers(directory: Path, *, grace: float = 5.0) -> list[int]:
    """Stop (SIGTERM, then SIGKILL after ``grace``) every recorded group still running;
    returns the process-group ids that were stopped."""
    if not directory.is_dir():
        return []
    stopped: list[int] = []
    for marker in directory.iterdir():
        if not marker.name.isdigit():
            continue
        pgid = int(marker.name)
        with contextlib.suppress(OSError):
            recorded = marker.read_text().strip()
            if _started(pgid) == recorded:
                os.killpg(pgid, signal.SIGTERM)
                deadline = time.monotonic() + grace
                while _started(pgid) == recorded and time.monotonic() < deadline:
                    time.sleep(0.05)
                if _started(pgid) == recorded:
                    os.killpg(pgid, signal.SIGKILL)
                stopped.append(pgid)
        forget(marker)
    return stopped


def survivors(deployment_id: int, *, host_marker: str = "") -> list[tuple[int, str, str]]:
    """``(pid, step, command)`` of every process still running that a step of deployment
    ``deployment_id`` started — whether it stayed in the step's process group or left it
    with ``setsid`` or a double fork: each step's processes inherit
    ``RELEASEGATE_DEPLOYMENT_ID`` and ``RELEASEGATE_STEP`` (a process that scrubs its
    environment is not found). ``host_marker`` (``NAME=value``) narrows it to processes that
    also carry that variable — the run's own ``RELEASEGATE_RUN``, since another store's
    deployment may have the same id. Read from ``/proc/*/environ``: this user's processes only."""
    wanted = f"RELEASEGATE_DEPLOYMENT_ID={deployment_id}".encode()
    found: list[tuple[int, str, str]] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            if wanted not in environ or (host_marker and host_marker.encode() not in environ):
                continue
            if Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue
            step = next(
                (v.split(b"=", 1)[1].decode(errors="replace") for v in environ
                 if v.startswith(b"RELEASEGATE_STEP=")), "?",
            )
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            found.append((int(entry), step, cmdline.decode(errors="replace").strip()[:120]))
        except (OSError, IndexError):
            continue
    return found
