"""release_changes against real git repositories made in tmp_path."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from releasegate.errors import DriverError
from releasegate.metrics.changes import release_changes

T0 = 1_767_600_000  # 2026-01-05 08:00 UTC


def _git(repo: Path, *args: str, at: int | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "ana", "GIT_AUTHOR_EMAIL": "ana@example.com",
           "GIT_COMMITTER_NAME": "ana", "GIT_COMMITTER_EMAIL": "ana@example.com"}
    if at is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{at} +0000"
    done = subprocess.run(["git", "-C", str(repo), *args], env=env, capture_output=True,
                          text=True, check=True)
    return done.stdout.strip()


def _commit(repo: Path, name: str, at: int, *, committed: int | None = None) -> str:
    (repo / name).write_text(name)
    _git(repo, "add", name)
    env_at = at
    _git(repo, "commit", "-qm", f"add {name}", at=env_at)
    if committed is not None:  # a rebase or squash: authored then, committed later
        env = {**os.environ, "GIT_COMMITTER_DATE": f"@{committed} +0000"}
        subprocess.run(["git", "-C", str(repo), "commit", "-q", "--amend", "--no-edit"],
                       env=env, check=True, capture_output=True)
    return _git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main: init, tag v1, a squash-merged change, a merged branch of two commits, a fix."""
    repo = tmp_path / "app"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _commit(repo, "init", T0)
    _git(repo, "tag", "v1")
    _commit(repo, "search", T0 + 3600, committed=T0 + 7200)  # squash merge
    _git(repo, "checkout", "-qb", "feature")
    _commit(repo, "pay-1", T0 + 600)
    _commit(repo, "pay-2", T0 + 5000)
    _git(repo, "checkout", "-q", "main")
    _git(repo, "merge", "-q", "--no-ff", "-m", "Merge payments", "feature", at=T0 + 9000)
    _commit(repo, "fix", T0 + 9500)
    return repo


def _at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def test_changes_since_the_previous_tag(repo: Path) -> None:
    changes = release_changes(repo, "HEAD", "v1")
    assert [c.subject for c in changes] == ["add search", "Merge payments", "add fix"]
    assert [c.first_commit_at for c in changes] == [_at(T0 + 3600), _at(T0 + 600), _at(T0 + 9500)]
    assert [c.merged_at for c in changes] == [_at(T0 + 7200), _at(T0 + 9000), _at(T0 + 9500)]


def test_the_first_release_contains_the_whole_history(repo: Path) -> None:
    assert len(release_changes(repo, "v1", None)) == 1
    assert len(release_changes(repo, "HEAD", None)) == 4


def test_a_missing_tag_is_named(repo: Path) -> None:
    with pytest.raises(DriverError, match=rf"^previous release commit v0 is not in the repository at {repo}$"):
        release_changes(repo, "HEAD", "v0")


def test_a_previous_release_on_another_line_is_refused(repo: Path) -> None:
    with pytest.raises(DriverError, match=r"^previous release commit feature is not an ancestor of v1$"):
        release_changes(repo, "v1", "feature")


def test_a_shallow_clone_says_so(repo: Path, tmp_path: Path) -> None:
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow)],
                   check=True, capture_output=True)
    with pytest.raises(DriverError, match=r"is not in the repository at .*shallow: fetch with --unshallow"):
        release_changes(shallow, "HEAD", "v1")
    with pytest.raises(DriverError, match="is shallow and there is no previous release"):
        release_changes(shallow, "HEAD", None)


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(DriverError, match=rf"^{tmp_path} is not a git repository$"):
        release_changes(tmp_path, "HEAD", None)
