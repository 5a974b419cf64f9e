"""What a release changes, read from git: the commit being deployed and the paths changed
since the commit that is live. ``if: changed('migrations/**')`` depends on it."""

from __future__ import annotations

import subprocess
from pathlib import Path

_TIMEOUT_S = 10


def _git(workdir: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=workdir, capture_output=True, text=True, timeout=_TIMEOUT_S
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def head_commit(workdir: Path) -> str | None:
    """The commit checked out in ``workdir``, or None outside a git repository."""
    out = _git(workdir, "rev-parse", "HEAD")
    return out.strip() if out else None


def changed_paths(workdir: Path, since: str | None, until: str | None) -> tuple[str, ...] | None:
    """Paths (relative to ``workdir``) changed between two commits, or None when that
    cannot be known (no git, no recorded commit, history rewritten)."""
    if not since or not until:
        return None
    if since == until:
        return ()
    out = _git(workdir, "diff", "--name-only", "--relative", f"{since}..{until}")
    if out is None:
        return None
    return tuple(line for line in out.splitlines() if line)
