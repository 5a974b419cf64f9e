"""``system``: CPU and memory of the target's processes and of the host (psutil).

Processes are chosen by pid, pid file, command-line pattern or environment variable
(the ``local`` target's processes carry their app's variables). ``cpu`` and ``memory``
are those processes' share of the machine — CPU as a percent of all cores over the
interval, memory as resident size over total RAM — or the host's when no selector is
given. ``host_cpu`` and ``host_memory`` are always the host's.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

import psutil
from pydantic import Field

from releasegate.drivers.api import MetricUnit, Options, Sample, StepContext
from releasegate.errors import DriverError

METRICS: dict[str, MetricUnit] = {
    "cpu": "%",
    "memory": "%",
    "rss": "MB",
    "processes": "",
    "host_cpu": "%",
    "host_memory": "%",
}


class SystemOptions(Options):
    """Options of the ``system`` source; with no selector it reports the host."""

    pids: list[int] = Field(default_factory=list, description="Process ids.")
    pid_files: list[str] = Field(
        default_factory=list, description="Files holding a pid (relative to the config file)."
    )
    cmdline: str | None = Field(
        None, description="A regular expression matched against each process's command line."
    )
    env: dict[str, str] = Field(
        default_factory=dict,
        description="Processes whose environment has these variables with these values.",
    )
    children: bool = Field(True, description="Count the chosen processes' children too.")

    @property
    def selects(self) -> bool:
        return bool(self.pids or self.pid_files or self.cmdline or self.env)


def _matches(proc: psutil.Process, options: SystemOptions, pattern: re.Pattern[str] | None) -> bool:
    try:
        if pattern is not None and not pattern.search(" ".join(proc.cmdline())):
            return False
        if options.env:
            environ = proc.environ()
            return all(environ.get(k) == v for k, v in options.env.items())
        return pattern is not None
    except (psutil.Error, OSError):
        return False


def select(options: SystemOptions, workdir: Path) -> dict[int, psutil.Process]:
    """The processes ``options`` choose, by pid."""
    pids = set(options.pids)
    for name in options.pid_files:
        path = workdir / name
        try:
            pids.add(int(path.read_text().split()[0]))
        except (OSError, ValueError, IndexError):
            continue  # a pid file that is not there (yet) chooses nothing
    chosen: dict[int, psutil.Process] = {}
    for pid in pids:
        try:
            chosen[pid] = psutil.Process(pid)
        except psutil.Error:
            continue
    if options.cmdline or options.env:
        pattern = re.compile(options.cmdline) if options.cmdline else None
        for proc in psutil.process_iter():
            if proc.pid not in chosen and _matches(proc, options, pattern):
                chosen[proc.pid] = proc
    if options.children:
        for proc in list(chosen.values()):
            try:
                for child in proc.children(recursive=True):
                    chosen.setdefault(child.pid, child)
            except psutil.Error:
                continue
    return chosen


def _cpu_seconds(procs: Mapping[int, psutil.Process]) -> dict[int, float]:
    used: dict[int, float] = {}
    for pid, proc in procs.items():
        try:
            times = proc.cpu_times()
            used[pid] = times.user + times.system
        except psutil.Error:
            continue
    return used


class System:
    """Measures CPU over the whole interval, memory at its end."""

    name: ClassVar[str] = "system"
    Options: ClassVar[type[SystemOptions]] = SystemOptions

    def metrics(self, options: SystemOptions) -> Mapping[str, MetricUnit]:
        return METRICS

    async def sample(self, options: SystemOptions, ctx: StepContext, *, seconds: float) -> Sample:
        if options.cmdline:
            try:
                re.compile(options.cmdline)
            except re.error as exc:
                raise DriverError(f"system: cmdline is not a regular expression: {exc}") from exc
        before_procs = await asyncio.to_thread(select, options, ctx.workdir)
        before = _cpu_seconds(before_procs)
        psutil.cpu_percent(None)
        started = time.monotonic()
        await asyncio.sleep(seconds)
        host_cpu = psutil.cpu_percent(None)
        elapsed = time.monotonic() - started
        host_memory = psutil.virtual_memory()
        values: dict[str, float] = {"host_cpu": host_cpu, "host_memory": host_memory.percent}
        missing: dict[str, str] = {}
        if not options.selects:
            values |= {"cpu": host_cpu, "memory": host_memory.percent}
            missing = {m: "no processes were chosen" for m in ("rss", "processes")}
            return Sample(at=time.time(), values=values, missing=missing)
        after_procs = await asyncio.to_thread(select, options, ctx.workdir)
        after = _cpu_seconds(after_procs)
        rss = 0
        for proc in after_procs.values():
            try:
                rss += proc.memory_info().rss
            except psutil.Error:
                continue
        if not after:
            missing = {m: "no process matched" for m in ("cpu", "memory", "rss")}
            values["processes"] = 0.0
            return Sample(at=time.time(), values=values, missing=missing)
        # a process that started during the interval counts from its start
        busy = sum(used - before.get(pid, 0.0) for pid, used in after.items())
        cores = psutil.cpu_count() or 1
        values["cpu"] = max(0.0, 100.0 * busy / (elapsed * cores))
        values["memory"] = 100.0 * rss / host_memory.total
        values["rss"] = rss / 1048576
        values["processes"] = float(len(after))
        return Sample(at=time.time(), values=values, missing=missing)
