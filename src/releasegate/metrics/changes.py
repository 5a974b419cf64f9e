"""What a release contains, read from a real git repository.

A **change** is a commit on the first-parent line between the previous release's commit
and this one: a squash merge, a rebase-merged or directly pushed commit, or a merge
commit. Its **first commit time** is when work on it began as far as git can tell: the
author date of the earliest commit the change brings in (a merge commit brings in its
whole branch; a squash merge keeps the author date of the squashed work).
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from releasegate.errors import DriverError
from releasegate.store.facts_records import ChangeFact

_TIMEOUT_S = 30
_SEP = "\x1f"


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True, text=True, timeout=_TIMEOUT_S, check=False,
        )
    except FileNotFoundError as exc:
        raise DriverError("git is not installed: release changes cannot be read") from exc
    except subprocess.TimeoutExpired as exc:
        raise DriverError(f"git {args[0]} in {repo} took longer than {_TIMEOUT_S}s") from exc
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise DriverError(f"git {args[0]} in {repo}: {last}")
    return done.stdout


def _resolve(repo: Path, rev: str, what: str) -> str:
    try:
        return _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()
    except DriverError:
        shallow = _git(repo, "rev-parse", "--is-shallow-repository").strip() == "true"
        hint = " (the clone is shallow: fetch with --unshallow or a deeper --depth)" if shallow else ""
        raise DriverError(f"{what} {rev} is not in the repository at {repo}{hint}") from None


def _when(epoch: str) -> datetime:
    return datetime.fromtimestamp(int(epoch), UTC)


def release_changes(repo: Path, commit: str, previous_commit: str | None) -> list[ChangeFact]:
    """The changes in ``previous_commit..commit`` (all of ``commit``'s history when there
    is no previous release), oldest first. Raises :class:`DriverError` naming the problem:
    not a repository, a commit or tag that is not there, a shallow clone that stops short
    of the previous release."""
    if not (repo / ".git").exists() and not _is_repo(repo):
        raise DriverError(f"{repo} is not a git repository")
    head = _resolve(repo, commit, "release commit")
    since = _resolve(repo, previous_commit, "previous release commit") if previous_commit else None
    if since is not None and _git(repo, "merge-base", since, head).strip() != since:
        raise DriverError(f"previous release commit {previous_commit} is not an ancestor of {commit}")
    if since is None and _git(repo, "rev-parse", "--is-shallow-repository").strip() == "true":
        raise DriverError(
            f"the clone at {repo} is shallow and there is no previous release: its history "
            "is cut short (fetch with --unshallow)"
        )
    span = f"{since}..{head}" if since else head
    log = _git(repo, "log", "--first-parent", "--reverse",
               f"--format=%H{_SEP}%P{_SEP}%at{_SEP}%ct{_SEP}%s", span)
    changes: list[ChangeFact] = []
    for line in log.splitlines():
        sha, parents, authored, committed, subject = line.split(_SEP, 4)
        first = int(authored)
        parent_list = parents.split()
        if len(parent_list) > 1:  # a merge: its branch's earliest authored commit
            branch = _git(repo, "log", "--format=%at", f"{parent_list[0]}..{sha}")
            first = min([first, *(int(t) for t in branch.split())])
        changes.append(ChangeFact(sha=sha, first_commit_at=datetime.fromtimestamp(first, UTC),
                                  merged_at=_when(committed), subject=subject))
    return changes


def _is_repo(repo: Path) -> bool:
    try:
        return bool(_git(repo, "rev-parse", "--git-dir").strip())
    except DriverError:
        return False
