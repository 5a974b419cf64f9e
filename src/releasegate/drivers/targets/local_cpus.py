"""A new version boots on all the machine's CPUs but one (``boot_cpus``).

Starting a version is interpreters importing an app: for half a second or more each wants
a whole core, and a version of two workers — or gunicorn's master and the workers it forks —
took every core of a small machine from the version still serving, whose p99 tripled during
each swap. Lowering their priority did not help (a waking server still waits for a core
that is busy importing); confining them did. So each process of a new version starts
pinned (``sched_setaffinity``) to ``boot_cpus`` of the supervisor's CPUs — by default all
but one, which the serving version and its clients keep — and every thread of every
process of the version, the workers a master forked included, is released to all of them
the moment the version is healthy, before it is admitted, or when half its health timeout
has gone by, so a version booting on a saturated machine still becomes healthy in time.
A fork under way while the tree is walked can still inherit the boot CPUs, so the supervisor
releases the version again when the swap ends and once more two seconds later.
Shutting a server down is busy too: a rehearsal is stopped on the boot CPUs, and the old
version is moved there when it is told to stop (it only drains from then on).
Pinning one's own children needs no privilege; on a single CPU there is nothing to keep.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

_EVERY = sorted(os.sched_getaffinity(0))
"""The supervisor's CPUs, read when it starts: its event loop's thread is itself pinned for
a moment while it forks a booting process (``local_process``), and a release read then
would pin instead."""


def allowed() -> list[int]:
    """The CPUs the supervisor may run on, in order."""
    return list(_EVERY)


def boot_set(requested: int | None) -> list[int]:
    """The CPUs a new version boots on: the last ``requested`` of the supervisor's (default:
    all but the first); empty (no pinning) when that would be all of them."""
    cpus = allowed()
    count = len(cpus) - 1 if requested is None else min(requested, len(cpus))
    if count < 1 or count >= len(cpus):
        return []
    return cpus[-count:]


def release(pid: int) -> None:
    """Let every thread of ``pid`` and of its descendants run on all the supervisor's CPUs."""
    pin_tree(pid, allowed())


def pin_tree(pid: int, cpus: list[int]) -> None:
    """Confine every thread of ``pid`` and of its descendants to ``cpus``.

    Affinity is per thread and inherited at fork and thread creation, so the tree is walked
    twice: a worker forked, or a thread started, by a process while it was being changed
    is caught the second time (a process started after its parent was changed inherits
    the change)."""
    for _ in range(2):
        for tid in _threads_of_tree(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
                os.sched_setaffinity(tid, cpus)


def _threads_of_tree(pid: int) -> list[int]:
    found: list[int] = []
    todo = [pid]
    seen: set[int] = set()
    while todo:
        process = todo.pop()
        if process in seen:
            continue
        seen.add(process)
        try:
            tasks = [int(t) for t in os.listdir(f"/proc/{process}/task")]
        except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
            continue
        found += tasks
        for tid in tasks:
            with contextlib.suppress(OSError):
                todo += [int(c) for c in Path(f"/proc/{process}/task/{tid}/children").read_text().split()]
    return found


def cpus_of(pid: int) -> list[int] | None:
    """The CPUs process ``pid`` may run on (None if it has gone)."""
    with contextlib.suppress(ProcessLookupError, OSError):
        return sorted(os.sched_getaffinity(pid))
    return None
