"""Where a queued deployment's code comes from, and where a worker runs it.

A queued deployment names a repository (its ``origin``, else the repository's own path)
and a commit. A worker keeps one cached clone per repository (fetched only when the commit
is missing) and checks the commit out into a worktree of its own per queued deployment, so
two deployments on one worker never share a work tree, and a worker resuming another's
deployment on the same machine finds the same path. The config is written there as it was
validated when it was queued (it may hold changes never committed).
"""

from __future__ import annotations

import fcntl
import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

from releasegate.errors import UsageError


class CheckoutError(Exception):
    """The commit cannot be checked out (gone from the repository, repository unreachable)."""


@dataclass(frozen=True)
class Source:
    """The repository, commit and config path (relative to the repository) of a config."""

    repository: str
    commit: str
    config_path: str


def _git(*args: str, cwd: Path | None = None, timeout: float = 300) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise CheckoutError((done.stderr or done.stdout).strip().splitlines()[-1:][0]
                            if (done.stderr or done.stdout).strip() else f"git {args[0]} failed")
    return done.stdout.strip()


def source_of(config_path: Path) -> Source:
    """The repository and commit ``config_path`` belongs to (UsageError when it is not in
    a git repository with a commit: a worker elsewhere could not get the code)."""
    where = config_path.resolve().parent
    try:
        top = Path(_git("rev-parse", "--show-toplevel", cwd=where))
        commit = _git("rev-parse", "HEAD", cwd=where)
    except (CheckoutError, OSError) as exc:
        raise UsageError(
            f"--queue: {config_path} is not in a git repository with a commit ({exc}); a "
            "worker checks out the repository and commit a queued deployment came from"
        ) from None
    try:
        origin = _git("remote", "get-url", "origin", cwd=top)
    except CheckoutError:
        origin = str(top)
    return Source(origin, commit, str(config_path.resolve().relative_to(top.resolve())))


def _key(repository: str) -> str:
    return hashlib.sha256(repository.encode()).hexdigest()[:16]


def checkout(cache: Path, source: Source, name: str) -> Path:
    """A worktree of ``source.commit`` under ``cache``, named ``name`` (reused when it is
    there already: a takeover on the same machine). Raises :class:`CheckoutError` naming
    the commit and repository when the commit cannot be had."""
    clone = cache / "repos" / _key(source.repository)
    tree = cache / "worktrees" / name
    if (tree / ".git").exists():
        return tree
    clone.parent.mkdir(parents=True, exist_ok=True)
    tree.parent.mkdir(parents=True, exist_ok=True)
    with open(clone.with_suffix(".lock"), "w") as held:  # one git at a time per clone
        fcntl.flock(held, fcntl.LOCK_EX)
        return _checkout_locked(clone, tree, source)


def _checkout_locked(clone: Path, tree: Path, source: Source) -> Path:
    if not (clone / "HEAD").exists():
        try:
            _git("clone", "--quiet", "--bare", source.repository, str(clone))
        except CheckoutError as exc:
            raise CheckoutError(f"cannot clone {source.repository}: {exc}") from None
    if not _has(clone, source.commit):
        try:
            _git("fetch", "--quiet", "origin", "+refs/heads/*:refs/heads/*", cwd=clone)
        except CheckoutError as exc:
            raise CheckoutError(f"cannot fetch {source.repository}: {exc}") from None
        if not _has(clone, source.commit):
            raise CheckoutError(
                f"commit {source.commit} no longer exists in {source.repository}"
            )
    _git("worktree", "prune", cwd=clone)
    _git("worktree", "add", "--detach", "--force", str(tree), source.commit, cwd=clone)
    return tree


def _has(clone: Path, commit: str) -> bool:
    try:
        _git("cat-file", "-e", f"{commit}^{{commit}}", cwd=clone)
    except CheckoutError:
        return False
    return True


def remove(cache: Path, source: Source, name: str) -> None:
    """Remove the worktree ``name`` (a deployment that ended leaves nothing behind)."""
    clone = cache / "repos" / _key(source.repository)
    tree = cache / "worktrees" / name
    if tree.exists():
        try:
            _git("worktree", "remove", "--force", str(tree), cwd=clone)
        except (CheckoutError, OSError):
            import shutil

            shutil.rmtree(tree, ignore_errors=True)
