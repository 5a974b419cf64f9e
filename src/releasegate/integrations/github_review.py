"""What makes a pull request "reviewed", decided from what GitHub's API returns.

Pure functions over the REST and GraphQL answers, so the rules read in one place:

* a person's **latest** review counts (a ``COMMENTED`` review changes nothing, as on
  GitHub; ``DISMISSED`` withdraws an earlier approval);
* approvals are counted once per person and never the author's;
* a latest review of ``CHANGES_REQUESTED`` blocks;
* every review thread must be resolved;
* the checks on the pull request's head commit must have passed: the named ones, or
  (none named) every one reported there.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from pydantic import JsonValue

PASSED_RUN = ("success", "neutral", "skipped")
COUNTED = ("APPROVED", "CHANGES_REQUESTED", "DISMISSED")


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)
    approvers: list[str] = field(default_factory=list)
    changes_requested: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    checks: dict[str, str] = field(default_factory=dict)


def _login(value: JsonValue) -> str:
    user = value.get("user") if isinstance(value, dict) else None
    login = user.get("login") if isinstance(user, dict) else None
    return str(login) if login else "(deleted user)"


def pick_pull(pulls: Sequence[JsonValue], sha: str) -> dict[str, JsonValue] | None:
    """The pull request that brought ``sha`` in: one merged as (or with head) ``sha`` first,
    then any merged one, then any open one."""
    found = [p for p in pulls if isinstance(p, dict)]

    def rank(p: dict[str, JsonValue]) -> tuple[int, int]:
        head = p.get("head")
        exact = p.get("merge_commit_sha") == sha or (isinstance(head, dict) and head.get("sha") == sha)
        merged = bool(p.get("merged_at"))
        number = p.get("number")
        return (2 * exact + merged, number if isinstance(number, int) else 0)

    return max(found, key=rank) if found else None


def latest_reviews(reviews: Sequence[JsonValue]) -> dict[str, str]:
    """Each reviewer's latest state that counts (comments and pending reviews do not)."""
    ordered = sorted(
        (r for r in reviews if isinstance(r, dict) and r.get("state") in COUNTED),
        key=lambda r: (str(r.get("submitted_at") or ""), r.get("id") if isinstance(r.get("id"), int) else 0),
    )
    latest: dict[str, str] = {}
    for review in ordered:
        latest[_login(review)] = str(review["state"])
    return latest


def judge(
    pull: dict[str, JsonValue], reviews: Sequence[JsonValue], threads: Sequence[JsonValue],
    check_runs: Sequence[JsonValue], statuses: Sequence[JsonValue], *, approvals: int,
    resolved_threads: bool, required_checks: Collection[str] | None, ignore_checks: Collection[str],
) -> Verdict:
    """Every reason the pull request does not prove a completed review (none: it does)."""
    verdict = Verdict()
    author = _login(pull)
    latest = latest_reviews(reviews)
    verdict.approvers = sorted(who for who, state in latest.items() if state == "APPROVED" and who != author)
    verdict.changes_requested = sorted(who for who, state in latest.items() if state == "CHANGES_REQUESTED")
    if len(verdict.approvers) < approvals:
        given = ", ".join(verdict.approvers) or "none"
        by_author = " (the author's own approval does not count)" if latest.get(author) == "APPROVED" else ""
        verdict.problems.append(
            f"{approvals} approvals needed from distinct people other than the author "
            f"({author}), {len(verdict.approvers)} given ({given}){by_author}")
    if verdict.changes_requested:
        verdict.problems.append(f"changes requested by {', '.join(verdict.changes_requested)}")
    if resolved_threads:
        for thread in threads:
            if isinstance(thread, dict) and not thread.get("isResolved"):
                verdict.unresolved.append(_thread(thread))
        if verdict.unresolved:
            shown = "; ".join(verdict.unresolved[:5]) + ("; …" if len(verdict.unresolved) > 5 else "")
            verdict.problems.append(f"{len(verdict.unresolved)} unresolved review "
                                    f"thread{'s' if len(verdict.unresolved) > 1 else ''}: {shown}")
    if required_checks is None or required_checks:
        verdict.checks = _checks(check_runs, statuses, ignore_checks)
        wanted = verdict.checks if required_checks is None else {
            name: verdict.checks.get(name, "missing") for name in required_checks}
        bad = {name: state for name, state in wanted.items() if state != "success"}
        if bad:
            verdict.problems.append("checks not green: " + ", ".join(f"{n} {s}" for n, s in sorted(bad.items())))
    return verdict


def _thread(thread: dict[str, JsonValue]) -> str:
    where = str(thread.get("path") or "the conversation")
    line = thread.get("line")
    comments = thread.get("comments")
    nodes = comments.get("nodes") if isinstance(comments, dict) else None
    first = nodes[0] if isinstance(nodes, list) and nodes and isinstance(nodes[0], dict) else {}
    author = first.get("author")
    who = author.get("login") if isinstance(author, dict) else None
    return f"{where}{f':{line}' if isinstance(line, int) else ''}" + (f" ({who})" if who else "")


def _checks(check_runs: Sequence[JsonValue], statuses: Sequence[JsonValue],
            ignore: Collection[str]) -> dict[str, str]:
    """Name → ``success``, ``pending`` or the failing conclusion, the newest run of each."""
    states: dict[str, tuple[int, str]] = {}
    for run in check_runs:
        if not isinstance(run, dict) or str(run.get("name")) in ignore:
            continue
        run_id = run.get("id") if isinstance(run.get("id"), int) else 0
        assert isinstance(run_id, int)
        if run.get("status") != "completed":
            state = "pending"
        else:
            conclusion = str(run.get("conclusion"))
            state = "success" if conclusion in PASSED_RUN else conclusion
        name = str(run.get("name"))
        if name not in states or states[name][0] <= run_id:
            states[name] = (run_id, state)
    for status in statuses:  # the combined status lists each context's latest
        if isinstance(status, dict) and str(status.get("context")) not in ignore:
            states.setdefault(str(status.get("context")), (0, str(status.get("state"))))
    return {name: state for name, (_, state) in states.items()}
