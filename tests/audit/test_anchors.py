"""Anchors outside the database: a git ref in a real repository, an append-only file."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from releasegate.audit.anchors import FileAnchor, GitAnchor, anchor_from_setting
from releasegate.config.models import AuditSettings
from releasegate.errors import ConfigError, StoreError
from releasegate.store.records import Anchor, ChainHead

T0 = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


class Ticks:
    """A clock that moves a minute on every call."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A project repository with a commit, a staged change and an untracked file."""
    repo = tmp_path / "project"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "dev@example.com")
    _git(repo, "config", "user.name", "dev")
    (repo / "releasegate.yaml").write_text("project: shop\n")
    _git(repo, "add", "releasegate.yaml")
    _git(repo, "commit", "-q", "-m", "config")
    (repo / "releasegate.yaml").write_text("project: shop2\n")
    _git(repo, "add", "releasegate.yaml")
    (repo / "notes.txt").write_text("untracked\n")
    return repo


def _head(n: int) -> ChainHead:
    return ChainHead(event_id=n, hash=f"{n:064x}", at=T0)


def test_git_anchors_are_commits_on_their_own_ref(repo: Path) -> None:
    before = (_git(repo, "rev-parse", "HEAD"), _git(repo, "status", "--porcelain"))
    index = (repo / ".git" / "index").read_bytes()
    (repo / "deploy").mkdir()
    anchors = GitAnchor(repo / "deploy", clock=Ticks())  # a config in a subdirectory
    assert anchors.read() == []
    first = anchors.write(_head(12))
    second = anchors.write(_head(40))
    assert anchors.read() == [first, second]
    assert second == Anchor(event_id=40, hash=f"{40:064x}", anchored_at=T0 + timedelta(minutes=2))
    # the ref's history is the list of anchors, each over the empty tree
    log = _git(repo, "log", "--format=%s", "refs/releasegate/anchors")
    assert log.splitlines() == ["releasegate anchor: event 40", "releasegate anchor: event 12"]
    assert _git(repo, "rev-parse", "refs/releasegate/anchors^{tree}") == _git(
        repo, "hash-object", "-t", "tree", "/dev/null"
    )
    # the work tree, the index and HEAD are as they were
    assert (_git(repo, "rev-parse", "HEAD"), _git(repo, "status", "--porcelain")) == before
    assert (repo / ".git" / "index").read_bytes() == index


def test_a_git_anchor_outside_a_repository_says_so(tmp_path: Path) -> None:
    where = f"cannot use the anchor ref refs/releasegate/anchors in {tmp_path}: fatal: not a git"
    with pytest.raises(StoreError, match=where):
        GitAnchor(tmp_path).write(_head(1))
    with pytest.raises(StoreError, match=where):
        GitAnchor(tmp_path).read()


def test_file_anchors_append_json_lines_privately(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "anchors.jsonl"
    anchors = FileAnchor(path, clock=Ticks())
    assert anchors.read() == []
    written = [anchors.write(_head(3)), anchors.write(_head(9))]
    assert anchors.read() == written
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(path.read_text().splitlines()) == 2
    with path.open("a") as handle:
        handle.write("not json\n")
    with pytest.raises(StoreError, match=f"{path}:3: not an anchor"):
        anchors.read()


def test_the_setting_chooses_the_anchor(tmp_path: Path) -> None:
    assert anchor_from_setting("none", tmp_path) is None
    git = anchor_from_setting("git", tmp_path)
    assert isinstance(git, GitAnchor)
    assert git.repo_dir == tmp_path
    file = anchor_from_setting("file:audit/anchors.jsonl", tmp_path)
    assert isinstance(file, FileAnchor)
    assert file.path == tmp_path / "audit" / "anchors.jsonl"
    with pytest.raises(ConfigError, match=r"audit\.anchor: .svn. is not git, file:PATH or none"):
        anchor_from_setting("svn", tmp_path)


def test_the_config_refuses_an_unknown_anchor() -> None:
    assert AuditSettings(anchor="file:x.jsonl").anchor == "file:x.jsonl"
    with pytest.raises(ValueError, match="'file:' is not git, file:PATH or none"):
        AuditSettings(anchor="file:")
