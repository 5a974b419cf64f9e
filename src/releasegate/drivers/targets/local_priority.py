"""A new version boots below the serving version's CPU priority (``boot_nice``).

Starting a version is an interpreter importing an app: for a second or two it wants a
whole core, and on a small machine it takes that core from the version still serving,
whose p99 doubles or triples during every swap. So each process of a new version runs
in a process group of its own, started ``boot_nice`` steps nicer (``nice(2)``) than the
supervisor, and the whole group (every thread of every process, workers a server forked
included) is set back to the supervisor's priority the moment the version is healthy,
before it is admitted — or when half its health timeout has gone by, so a version booting
on a saturated machine still becomes healthy in time.

Setting a priority back up needs ``CAP_SYS_NICE`` (root has it) or an ``RLIMIT_NICE``
that allows it (``ulimit -e``); a supervisor without either boots new versions at its own
priority, as before, rather than leave them niced.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource

log = logging.getLogger("releasegate.local")

_CAP_SYS_NICE = 23


def own_priority() -> int:
    """The supervisor's nice value (what a version is set back to)."""
    return os.getpriority(os.PRIO_PROCESS, 0)


def may_restore() -> bool:
    """Whether this process may set a group's nice value back down to its own.

    The kernel allows lowering a nice value to N with ``CAP_SYS_NICE`` or when the soft
    ``RLIMIT_NICE`` is at least ``20 - N``.
    """
    soft, _hard = resource.getrlimit(resource.RLIMIT_NICE)
    if soft == resource.RLIM_INFINITY or soft >= 20 - own_priority():
        return True
    return _has_capability(_CAP_SYS_NICE)


def _has_capability(bit: int) -> bool:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> bit & 1)
    except (OSError, ValueError):
        pass
    return False


def boot_nice(requested: int) -> int:
    """The nice increment a new version boots with: ``requested``, or 0 where it could not
    be set back afterwards (said once in the supervisor's log)."""
    if requested <= 0:
        return 0
    if may_restore():
        return requested
    global _WARNED
    if not _WARNED:
        _WARNED = True
        log.warning(
            "new versions boot at normal priority: boot_nice %d could not be set back "
            "(no CAP_SYS_NICE, RLIMIT_NICE %d)",
            requested, resource.getrlimit(resource.RLIMIT_NICE)[0],
        )
    return 0


_WARNED = False


def restore(pgid: int) -> bool:
    """Set the process group ``pgid`` (every thread of every process in it) back to the
    supervisor's priority; False if it has gone or cannot be (logged)."""
    try:
        os.setpriority(os.PRIO_PGRP, pgid, own_priority())
    except ProcessLookupError:
        return False
    except PermissionError as exc:
        log.warning("cannot set process group %d back to normal priority: %s", pgid, exc)
        return False
    return True


def nice_of(pid: int) -> int | None:
    """The nice value of process ``pid`` (None if it has gone)."""
    with contextlib.suppress(ProcessLookupError):
        return os.getpriority(os.PRIO_PROCESS, pid)
    return None
