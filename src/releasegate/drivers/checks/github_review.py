"""``github-review``: "code review completed", proved from the pull request that brought
the release's commit in.

It asks GitHub's REST API for the pull requests of the commit
(``GET /repos/{o}/{r}/commits/{sha}/pulls``), that pull request's reviews
(``…/pulls/{n}/reviews``), the check runs and commit statuses of its head
(``…/commits/{head}/check-runs``, ``…/commits/{head}/status``), and GraphQL for its review
threads (``reviewThreads { isResolved }``: REST does not say whether a conversation is
resolved). The rules are :mod:`releasegate.integrations.github_review`'s; every failing
reason is named in the summary.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import ClassVar

from pydantic import Field, JsonValue

from releasegate.config.types import Duration
from releasegate.drivers.api import Options, StepContext, StepResult
from releasegate.drivers.process import resolve_secret
from releasegate.errors import DriverError
from releasegate.integrations.github_api import DEFAULT_API, GitHub, plain_setting
from releasegate.integrations.github_review import judge, pick_pull

THREADS = """
query($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $after) {
        nodes { isResolved isOutdated path line comments(first: 1) { nodes { author { login } } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}
"""


class GitHubReviewOptions(Options):
    """Options of ``github-review``."""

    repository: str = Field("${env:GITHUB_REPOSITORY}", description="OWNER/NAME (GitHub Actions "
                            "sets GITHUB_REPOSITORY); not a secret: ${env:NAME} is read as it is.")
    token: str = Field("${env:GITHUB_TOKEN}", description="A token that may read pull requests, "
                       "checks and statuses; a secret reference. Never printed.")
    api_url: str = Field(DEFAULT_API, description="The REST API's root (GitHub Enterprise Server: "
                         "https://HOST/api/v3); GraphQL is found beside it.")
    commit: str | None = Field(None, description="The commit to look up (a reference like "
                               "${env:GITHUB_SHA} is fine); default: the release's commit.")
    approvals: int = Field(2, ge=0, le=50, description="Approvals needed from distinct people, "
                           "none of them the author.")
    resolved_threads: bool = Field(True, description="Fail while a review thread is unresolved.")
    required_checks: list[str] | None = Field(
        None, description="Check runs or status contexts on the pull request's head that must "
        "have passed; unset: every one reported there; []: none.")
    ignore_checks: list[str] = Field(default_factory=list, description="Checks never looked at "
                                     "(the deploying workflow's own job, say).")
    timeout: Duration = Field(timedelta(seconds=20), description="Give up on a request after this long.")


class GitHubReview:
    """Reads only; safe to run again."""

    name: ClassVar[str] = "github-review"
    Options: ClassVar[type[GitHubReviewOptions]] = GitHubReviewOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: GitHubReviewOptions, ctx: StepContext) -> StepResult:
        try:
            return await self._run(options, ctx)
        except DriverError as exc:
            return StepResult(ok=False, summary=ctx.secrets.redact(str(exc)))

    async def _run(self, options: GitHubReviewOptions, ctx: StepContext) -> StepResult:
        from releasegate.drivers.httpcheck_common import http_client

        environ = {**os.environ, **ctx.env}
        repository = plain_setting(options.repository, what="repository", environ=environ)
        token = resolve_secret(ctx, options.token, what="token")
        sha = (plain_setting(options.commit, what="commit", environ=environ) if options.commit
               else ctx.release.commit)
        if not sha:
            raise DriverError("no commit to look up: the release has none (not a git checkout?) "
                              "and the step sets no commit")
        api_url = plain_setting(options.api_url, what="api_url", environ=environ)
        async with http_client(timeout=options.timeout.total_seconds()) as client:
            gh = GitHub(client, repository=repository, token=token, api_url=api_url)
            pulls = await gh.get_list(f"/commits/{sha}/pulls", what=f"the pull requests of commit {sha[:12]}")
            pull = pick_pull(pulls, sha)
            if pull is None:
                raise DriverError(f"commit {sha[:12]} is in no pull request of {repository}: "
                                  "nothing proves it was reviewed")
            number = pull.get("number")
            assert isinstance(number, int)
            ctx.progress(f"pull request #{number}: {pull.get('title')}")
            reviews = await gh.get_list(f"/pulls/{number}/reviews", what=f"the reviews of #{number}")
            threads = await _threads(gh, number) if options.resolved_threads else []
            head = pull.get("head")
            head_sha = str(head.get("sha")) if isinstance(head, dict) else sha
            runs: list[JsonValue] = []
            statuses: list[JsonValue] = []
            if options.required_checks is None or options.required_checks:
                runs = await gh.get_list(f"/commits/{head_sha}/check-runs", key="check_runs",
                                         what=f"the check runs of {head_sha[:12]}")
                statuses = await gh.get_list(f"/commits/{head_sha}/status", key="statuses",
                                             what=f"the statuses of {head_sha[:12]}")
        verdict = judge(pull, reviews, threads, runs, statuses, approvals=options.approvals,
                        resolved_threads=options.resolved_threads,
                        required_checks=options.required_checks, ignore_checks=options.ignore_checks)
        user = pull.get("user")
        evidence: dict[str, JsonValue] = {
            "repository": repository, "commit": sha, "pull_request": number,
            "url": pull.get("html_url"), "author": user.get("login") if isinstance(user, dict) else None,
            "head": head_sha, "approvers": list(verdict.approvers),
            "changes_requested": list(verdict.changes_requested),
            "unresolved_threads": len(verdict.unresolved), "checks": dict(verdict.checks),
        }
        if verdict.problems:
            return StepResult(ok=False, summary=f"#{number}: " + "; ".join(verdict.problems),
                              evidence=evidence)
        approved = ", ".join(verdict.approvers) or "no approval needed"
        return StepResult(ok=True, summary=f"#{number} reviewed: approved by {approved}"
                          + (f"; {len(verdict.checks)} checks green" if verdict.checks else ""),
                          evidence=evidence)


async def _threads(gh: GitHub, number: int) -> list[JsonValue]:
    owner, name = gh.repository.split("/")
    found: list[JsonValue] = []
    after: str | None = None
    for _ in range(50):
        data = await gh.graphql(THREADS, {"owner": owner, "name": name, "number": number,
                                          "after": after}, what=f"the review threads of #{number}")
        page = _dig(data, "repository", "pullRequest", "reviewThreads")
        if not isinstance(page, dict):
            raise DriverError(f"GitHub found no pull request #{number} in {gh.repository} (GraphQL)")
        nodes = page.get("nodes")
        found.extend(nodes if isinstance(nodes, list) else [])
        info = page.get("pageInfo")
        if not (isinstance(info, dict) and info.get("hasNextPage")):
            break
        after = str(info.get("endCursor"))
    return found


def _dig(value: JsonValue, *keys: str) -> JsonValue:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value
