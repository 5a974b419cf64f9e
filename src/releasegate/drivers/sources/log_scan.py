"""``log-scan``: lines matching patterns in a log file, or in a command's output.

A file is read from where it ended when the stage began (``from: end``, the default:
only lines written since the release) or from its start; each interval counts the new
lines matching each pattern. A file that shrinks or is replaced (rotation) is read again
from its start. A command is run once per interval (argv, no shell); ``{since}`` in its
arguments becomes the interval's start (ISO 8601, UTC) and ``{seconds}`` its length, e.g.
``[journalctl, -u, app, --since, "{since}"]``.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from releasegate.config.types import Duration
from releasegate.drivers.api import MetricUnit, Options, Sample, StepContext
from releasegate.errors import DriverError

DEFAULT_PATTERNS = {
    "log_critical": r"(?i)\b(critical|fatal|panic|emerg(ency)?)\b|Traceback \(most recent call last\)",
    "log_errors": r"(?i)\berror\b",
}
_MAX_READ = 64 * 1024 * 1024


class LogScanOptions(Options):
    """Options of ``log-scan``: a ``path`` or a ``command``, and the patterns to count."""

    path: str | None = Field(None, description="A log file (relative to the config file).")
    command: list[str] | None = Field(
        None, description="Or a command whose output is scanned each interval (argv)."
    )
    patterns: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_PATTERNS),
        description="Metric name → regular expression; each counts matching lines.",
    )
    from_: Literal["end", "start"] = Field(
        "end", alias="from", description="end: only lines written after the stage began."
    )
    timeout: Duration = Field(timedelta(seconds=30), description="A command's time limit.")


class LogScan:
    """Keeps its place in the file between intervals."""

    name: ClassVar[str] = "log-scan"
    Options: ClassVar[type[LogScanOptions]] = LogScanOptions

    def __init__(self) -> None:
        self._offset: int | None = None
        self._inode: int | None = None
        self._partial = b""

    def metrics(self, options: LogScanOptions) -> Mapping[str, MetricUnit]:
        return {name: "" for name in options.patterns}

    async def sample(self, options: LogScanOptions, ctx: StepContext, *, seconds: float) -> Sample:
        if (options.path is None) == (options.command is None):
            raise DriverError("log-scan: give exactly one of path and command")
        try:
            patterns = {name: re.compile(p) for name, p in options.patterns.items()}
        except re.error as exc:
            raise DriverError(f"log-scan: a pattern is not a regular expression: {exc}") from exc
        if options.path is not None:
            path = ctx.workdir / options.path
            if self._offset is None:
                self._start(path, options)
            await asyncio.sleep(seconds)
            text = await asyncio.to_thread(self._read_new, path)
        else:
            since = datetime.fromtimestamp(time.time(), tz=UTC)
            await asyncio.sleep(seconds)
            assert options.command is not None
            text = await self._run(options, ctx, since, seconds)
        lines = text.splitlines()
        values = {name: float(sum(1 for line in lines if p.search(line))) for name, p in patterns.items()}
        return Sample(at=time.time(), values=values)

    def _start(self, path: Path, options: LogScanOptions) -> None:
        try:
            stat = path.stat()
        except FileNotFoundError:
            self._offset, self._inode = 0, None  # lines written once it appears all count
            return
        self._inode = stat.st_ino
        self._offset = stat.st_size if options.from_ == "end" else 0

    def _read_new(self, path: Path) -> str:
        try:
            with path.open("rb") as handle:
                stat = os.fstat(handle.fileno())
                if stat.st_ino != self._inode or stat.st_size < (self._offset or 0):
                    self._offset, self._partial = 0, b""  # rotated or truncated
                self._inode = stat.st_ino
                handle.seek(self._offset or 0)
                data = handle.read(_MAX_READ)
        except FileNotFoundError:
            return ""  # rotated away and not yet recreated: nothing new
        except OSError as exc:
            raise DriverError(f"log-scan: cannot read {path}: {exc.strerror}") from exc
        self._offset = (self._offset or 0) + len(data)
        data = self._partial + data
        complete, _, self._partial = data.rpartition(b"\n")
        return complete.decode("utf-8", errors="replace")

    async def _run(self, options: LogScanOptions, ctx: StepContext, since: datetime, seconds: float) -> str:
        assert options.command is not None
        argv = [
            a.replace("{since}", since.isoformat(timespec="seconds")).replace("{seconds}", f"{seconds:g}")
            for a in options.command
        ]
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, cwd=ctx.workdir, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT, env={**os.environ, **ctx.env},
            )  # fmt: skip
        except OSError as exc:
            raise DriverError(f"log-scan: cannot run {argv[0]}: {exc.strerror}") from exc
        try:
            async with asyncio.timeout(options.timeout.total_seconds()):
                out, _ = await proc.communicate()
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise DriverError(f"log-scan: {argv[0]} did not finish within {options.timeout}") from None
        if proc.returncode != 0:
            raise DriverError(f"log-scan: {argv[0]} exited with {proc.returncode}")
        return ctx.secrets.redact(out.decode("utf-8", errors="replace"))
