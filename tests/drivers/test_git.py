"""``git`` against real repositories in tmp_path, with a bare repository as the remote."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from releasegate.drivers.api import Release
from releasegate.drivers.checks.git import Git
from releasegate.testing import run_driver

IDENTITY = {
    "GIT_AUTHOR_NAME": "QA",
    "GIT_AUTHOR_EMAIL": "qa@example.com",
    "GIT_COMMITTER_NAME": "QA",
    "GIT_COMMITTER_EMAIL": "qa@example.com",
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True, env={**IDENTITY, "PATH": "/usr/bin:/bin", "HOME": str(repo)}
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    work = tmp_path / "work"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    (work / "app.py").write_text("print('v1')\n")
    git(work, "add", "app.py")
    git(work, "commit", "-q", "-m", "first")
    git(work, "remote", "add", "origin", str(remote))
    return work


def test_clean_branch_and_commit_checks_pass(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    result = run_driver(
        Git(), {"clean": True, "branch": "main", "commit": True}, workdir=repo,
        release=Release("p", "1.0.0", commit=head[:10]),
    )
    assert result.ok, result.summary
    assert result.evidence["head"] == head


def test_dirty_tree_and_wrong_branch_fail_with_names(repo: Path) -> None:
    (repo / "app.py").write_text("print('changed')\n")
    (repo / "new.txt").write_text("x")
    result = run_driver(Git(), {"clean": True, "branch": "release"}, workdir=repo)
    assert not result.ok
    assert result.summary == (
        "working tree is not clean (2 changed: app.py, new.txt); on main, expected branch release"
    )


def test_head_must_be_the_release_commit(repo: Path) -> None:
    result = run_driver(
        Git(), {"commit": True}, workdir=repo, release=Release("p", "1.0.0", commit="deadbeef")
    )
    assert not result.ok
    assert "not the release's commit deadbeef" in result.summary


def test_creates_annotated_tag_and_pushes_it(repo: Path) -> None:
    options = {"tag": True, "push": True}
    result = run_driver(Git(), options, workdir=repo, release=Release("p", "1.2.0"), env=IDENTITY)
    assert result.ok, result.summary
    assert result.summary == "checks passed; tagged v1.2.0; pushed v1.2.0 to origin"
    assert git(repo, "cat-file", "-t", "v1.2.0") == "tag"  # annotated, not lightweight
    remote = repo.parent / "remote.git"
    assert git(remote, "rev-parse", "v1.2.0^{commit}") == git(repo, "rev-parse", "HEAD")
    again = run_driver(Git(), options, workdir=repo, release=Release("p", "1.2.0"), env=IDENTITY)
    assert again.ok
    assert "tag v1.2.0 already on HEAD" in again.summary


def test_existing_tag_elsewhere_is_refused(repo: Path) -> None:
    git(repo, "tag", "-a", "v1.2.0", "-m", "old")
    (repo / "app.py").write_text("print('v2')\n")
    git(repo, "commit", "-q", "-am", "second")
    result = run_driver(Git(), {"tag": True}, workdir=repo, release=Release("p", "1.2.0"), env=IDENTITY)
    assert not result.ok
    assert result.summary.startswith("tag v1.2.0 already exists on ")


def test_push_to_missing_remote_fails_clearly(repo: Path) -> None:
    result = run_driver(
        Git(), {"tag": True, "push": True, "remote": "upstream"}, workdir=repo,
        release=Release("p", "1.3.0"), env=IDENTITY,
    )
    assert not result.ok
    assert result.summary.startswith("could not push v1.3.0 to upstream: ")


def test_not_a_repository(tmp_path: Path) -> None:
    result = run_driver(Git(), {"clean": True}, workdir=tmp_path)
    assert not result.ok
    assert result.summary.startswith(". is not a git repository: ")
