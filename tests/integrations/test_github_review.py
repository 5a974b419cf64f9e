"""The ``github-review`` check against a local server answering as GitHub's REST and
GraphQL APIs do (fixtures recorded in GitHub's documented shapes)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from tests.integrations.github_server import (
    HEAD_SHA,
    MERGE_SHA,
    REPO,
    TOKEN,
    GitHubState,
    github,
)

from releasegate.drivers.api import Release, StepResult
from releasegate.drivers.checks.github_review import GitHubReview
from releasegate.testing import StaticSecrets, run_driver

RELEASE = Release(environment="production", version="1.8.0", commit=MERGE_SHA)


@pytest.fixture
def gh() -> Iterator[GitHubState]:
    with github() as running:
        yield running


def review(gh: GitHubState, *, token: str = TOKEN, release: Release = RELEASE, **options: Any) -> StepResult:
    secrets = StaticSecrets({"GITHUB_TOKEN": token})
    return run_driver(GitHubReview(), {"api_url": gh.url, "repository": REPO, **options},
                      release=release, secrets=secrets)


def _review(login: str, state: str, at: str, review_id: int) -> dict[str, Any]:
    return {"id": review_id, "user": {"login": login, "id": review_id, "type": "User"}, "state": state,
            "submitted_at": at, "body": "", "commit_id": HEAD_SHA}


def test_the_recorded_pull_request_proves_the_review(gh: GitHubState) -> None:
    done = review(gh)
    assert done.ok, done.summary
    assert done.summary == "#42 reviewed: approved by ana, ben; 4 checks green"
    assert done.evidence["pull_request"] == 42
    assert done.evidence["url"] == "https://github.com/octo-org/shop/pull/42"
    assert done.evidence["author"] == "dana"
    assert done.evidence["head"] == HEAD_SHA
    assert done.evidence["checks"] == {"unit-tests": "success", "lint": "success",
                                       "docs-preview": "success", "coverage": "success"}
    method, path, headers = gh.log[0]
    assert (method, path.split("?")[0]) == ("GET", f"/repos/{REPO}/commits/{MERGE_SHA}/pulls")
    assert headers["Accept"] == "application/vnd.github+json"
    assert headers["X-GitHub-Api-Version"] == "2022-11-28"


def test_every_failing_reason_is_named(gh: GitHubState) -> None:
    reviews = gh.reviews[42]
    reviews.append(_review("ben", "CHANGES_REQUESTED", "2026-11-28T15:00:00Z", 80010))
    reviews.append(_review("dana", "APPROVED", "2026-11-28T15:01:00Z", 80011))
    gh.threads[42].append({"isResolved": False, "isOutdated": False, "path": "app/payments.py", "line": 120,
                           "comments": {"nodes": [{"author": {"login": "ben"}}]}})
    gh.check_runs[HEAD_SHA][1].update(conclusion="failure")
    gh.check_runs[HEAD_SHA].append({"id": 31000009, "name": "e2e", "status": "in_progress", "conclusion": None})
    done = review(gh)
    assert not done.ok
    assert done.summary == (
        "#42: 2 approvals needed from distinct people other than the author (dana), 1 given (ana) "
        "(the author's own approval does not count); changes requested by ben; "
        "1 unresolved review thread: app/payments.py:120 (ben); checks not green: e2e pending, lint failure")
    assert done.evidence["changes_requested"] == ["ben"]
    assert done.evidence["unresolved_threads"] == 1


def test_the_latest_review_per_person_counts_and_a_dismissal_withdraws(gh: GitHubState) -> None:
    gh.reviews[42] = [
        _review("ana", "APPROVED", "2026-11-28T09:00:00Z", 1),
        _review("ana", "APPROVED", "2026-11-28T09:05:00Z", 2),  # the same person twice: one approval
        _review("ben", "APPROVED", "2026-11-28T09:10:00Z", 3),
        _review("ben", "DISMISSED", "2026-11-28T09:20:00Z", 4),
    ]
    assert review(gh).summary.startswith("#42: 2 approvals needed from distinct people other than the "
                                         "author (dana), 1 given (ana)")
    gh.reviews[42].append(_review("cleo", "APPROVED", "2026-11-28T10:00:00Z", 5))
    done = review(gh, approvals=2)
    assert done.ok, done.summary


def test_named_required_checks_and_ignored_ones(gh: GitHubState) -> None:
    gh.check_runs[HEAD_SHA].append({"id": 31000010, "name": "deploy / production", "status": "in_progress",
                                    "conclusion": None})
    assert not review(gh).ok  # every check, the deploying job's own included
    assert review(gh, ignore_checks=["deploy / production"]).ok
    named = review(gh, required_checks=["unit-tests", "security-scan"])
    assert (named.ok, named.summary) == (False, "#42: checks not green: security-scan missing")
    assert review(gh, required_checks=[]).ok


def test_lists_are_read_across_pages(gh: GitHubState) -> None:
    gh.page_cap = 2
    gh.reviews[42] = [_review(f"r{i}", "APPROVED", f"2026-11-28T09:{i:02d}:00Z", i) for i in range(7)]
    gh.threads[42] = [{"isResolved": True, "path": f"f{i}.py", "line": i, "comments": {"nodes": []}}
                      for i in range(5)]
    gh.threads[42].append({"isResolved": False, "path": "last.py", "line": 9, "comments": {"nodes": []}})
    done = review(gh, approvals=7)
    assert done.summary == "#42: 1 unresolved review thread: last.py:9"
    assert done.evidence["approvers"] == [f"r{i}" for i in range(7)]
    pages = [path for method, path, _ in gh.log if "/reviews" in path]
    assert len(pages) == 4
    assert len([path for method, path, _ in gh.log if path == "/graphql"]) == 3


def test_a_commit_in_no_pull_request(gh: GitHubState) -> None:
    gh.pulls[MERGE_SHA] = []
    done = review(gh)
    assert (done.ok, done.summary) == (
        False, "commit 9f1c2d3e4b5a is in no pull request of octo-org/shop: nothing proves it was reviewed")


def test_a_refused_token_is_said_and_never_shown(gh: GitHubState) -> None:
    done = review(gh, token="ghp_wrongtoken12345")
    assert (done.ok, done.summary) == (
        False, "GitHub refused the token (401 Bad credentials): check the secret the token comes from")
    assert "ghp_wrongtoken12345" not in done.summary


def test_a_rate_limit_says_when_it_resets(gh: GitHubState) -> None:
    gh.rate_limited = True
    done = review(gh)
    assert not done.ok
    assert done.summary.startswith("GitHub rate limit reached (5000 requests an hour for this token); "
                                   "it resets at ")
    assert re.search(rf"resets at \d\d:\d\d:\d\d UTC \(in 5\d\ds\): stopped at the pull requests of "
                     rf"commit {MERGE_SHA[:12]}$", done.summary), done.summary


def test_an_unknown_repository_is_a_404_that_says_so(gh: GitHubState) -> None:
    done = review(gh, repository="octo-org/nope")
    assert (done.ok, done.summary) == (
        False, f"GitHub answered 404 Not Found for the pull requests of commit {MERGE_SHA[:12]} in "
        "octo-org/nope: the repository does not exist or the token cannot see it")
    bad = review(gh, repository="not a repo")
    assert (bad.ok, bad.summary) == (False, "repository 'not a repo' is not OWNER/NAME")


def test_the_repository_and_commit_come_from_the_actions_environment(
    gh: GitHubState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_SHA", MERGE_SHA)
    done = run_driver(GitHubReview(), {"api_url": gh.url, "commit": "${env:GITHUB_SHA}"},
                      release=Release("production", "1.8.0"), secrets=StaticSecrets({"GITHUB_TOKEN": TOKEN}))
    assert done.ok, done.summary
    assert done.evidence["repository"] == REPO  # not a secret: never redacted
    monkeypatch.delenv("GITHUB_REPOSITORY")
    unset = run_driver(GitHubReview(), {"api_url": gh.url}, release=RELEASE,
                       secrets=StaticSecrets({"GITHUB_TOKEN": TOKEN}))
    assert unset.summary == ("repository: ${env:GITHUB_REPOSITORY} is not set (GitHub Actions sets "
                             "GITHUB_REPOSITORY and GITHUB_SHA; elsewhere give the value)")


def test_no_commit_to_look_up() -> None:
    done = run_driver(GitHubReview(), {"repository": REPO}, release=Release("production", "1.8.0"),
                      secrets=StaticSecrets({"GITHUB_TOKEN": TOKEN}))
    assert (done.ok, done.summary) == (
        False, "no commit to look up: the release has none (not a git checkout?) and the step sets no commit")


def test_unreachable_github() -> None:
    done = run_driver(GitHubReview(), {"api_url": "http://127.0.0.1:9", "repository": REPO}, release=RELEASE,
                      secrets=StaticSecrets({"GITHUB_TOKEN": TOKEN}))
    assert (done.ok, done.summary) == (False, "GitHub cannot be reached at http://127.0.0.1:9: ConnectError")


def test_an_unknown_commit_and_graphql_errors_are_said(gh: GitHubState) -> None:
    unknown = review(gh, commit="0" * 40)
    assert (unknown.ok, unknown.summary) == (
        False, f"GitHub answered 422 for the pull requests of commit {'0' * 12}: No commit found for SHA: "
        f"{'0' * 40}")
    gh.graphql_errors = [{"type": "FORBIDDEN", "path": ["repository", "pullRequest"],
                          "message": "Resource not accessible by integration"}]
    refused = review(gh)
    assert (refused.ok, refused.summary) == (
        False, "GitHub refused the review threads of #42: Resource not accessible by integration")
