"""The deployment commands: parse, call ``service.deployments``, present, exit code."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from rich.console import Console

from releasegate.cli.context import Globals
from releasegate.cli.exit_codes import Exit
from releasegate.cli.live import JsonLines, LiveTree
from releasegate.service import deployments
from releasegate.service.results import Outcome

if TYPE_CHECKING:
    from releasegate.cli.ci_view import CiOutputs
    from releasegate.service.types import Plan

EXIT_FOR = {
    "succeeded": Exit.OK,
    "checked": Exit.OK,
    "failed": Exit.FAILED,
    "rollback_failed": Exit.FAILED,
    "rolled_back": Exit.ROLLED_BACK,
    "cancelled": Exit.INTERRUPTED,
    "check_failed": Exit.FAILED,
    "blocked": Exit.BLOCKED,
}


def _view(g: Globals, title: str) -> LiveTree | JsonLines:
    return JsonLines() if g.json else LiveTree(Console(), title=title)


def _exit(outcome: Outcome) -> int:
    if outcome.status == "blocked" and outcome.explanation:
        err = Console(stderr=True, highlight=False)
        err.print(f"blocked: {outcome.detail}", markup=False)
        err.print(outcome.explanation, markup=False)
    return int(EXIT_FOR.get(outcome.status, Exit.FAILED))


def plan(g: Globals, env: str, version: str | None, *, kind: str, flags: list[str]) -> int:
    from releasegate.cli.plan_view import print_plan, print_rollback_preview

    ws, actor = g.workspace, g.actor
    if kind == "rollback":
        preview = deployments.rollback_preview(ws, actor, env, to=version)
        print_rollback_preview(preview, as_json=g.json)
        return Exit.OK
    if version is None:
        from releasegate.errors import UsageError

        raise UsageError("plan needs a VERSION (or --kind rollback)")
    the_plan, verdict = deployments.plan(ws, actor, env, version, kind=kind, flags=flags)
    print_plan(the_plan, as_json=g.json, policy=verdict.record, policy_text=verdict.decision.explain())
    return Exit.OK


def check(g: Globals, env: str, version: str, *, kind: str, flags: list[str],
          ci: CiOutputs | None = None) -> int:
    with _view(g, f"check {env} {version}") as view, _reported(g, ci, "check", env, version) as report:
        outcome = report(deployments.check(
            g.workspace, g.actor, env, version, kind=kind, flags=flags, reporter=view
        ))
    return _exit(outcome)


@contextlib.contextmanager
def _reported(g: Globals, ci: CiOutputs | None, what: str, env: str, version: str
              ) -> Iterator[Callable[[Outcome], Outcome]]:
    """``--junit`` and GitHub's summary of the outcome handed to the function it yields,
    or of a policy refusal raised inside it (the error itself goes on up)."""
    from releasegate.cli import ci_view
    from releasegate.errors import PolicyDenied

    if ci is not None:
        ci.check()

    def report(outcome: Outcome) -> Outcome:
        if ci is not None:
            ci_view.write(g, ci, outcome, what=what)
        return outcome

    try:
        yield report
    except PolicyDenied as exc:
        report(Outcome(None, "blocked", str(exc), env, version, explanation=exc.explanation))
        raise


def deploy(
    g: Globals,
    env: str,
    version: str,
    *,
    kind: str,
    emergency: bool,
    reason: str | None,
    override_freeze: bool,
    overrides: list[str],
    yes: bool,
    flags: list[str] | None = None,
    fixes: int | None = None,
    ci: CiOutputs | None = None,
) -> int:
    """``releasegate deploy``."""
    interactive = not yes and not g.json and sys.stdin.isatty() and sys.stdout.isatty()

    def ask(the_plan: Plan) -> bool:
        from rich.prompt import Confirm

        live = the_plan.release.previous_version or "nothing"
        return Confirm.ask(f"Deploy {version} to {env} (live now: {live})?", default=False)

    view = _view(g, f"deploy {env} {version}")
    with view, _reported(g, ci, "deploy", env, version) as report:
        outcome = report(deployments.deploy(
            g.workspace, g.actor, env, version, kind=kind, emergency=emergency, reason=reason,
            override_freeze=override_freeze, overrides=overrides, flags=flags or [],
            reporter=view, confirm=ask if interactive else None, fixes=fixes,
        ))
    if outcome.deployment_id is None and outcome.status == "cancelled":
        Console(stderr=True).print("not deployed")
    return _exit(outcome)


def rollback(g: Globals, env: str, *, to: str | None, reason: str | None) -> int:
    with _view(g, f"rollback {env}") as view:
        outcome = deployments.rollback(g.workspace, g.actor, env, to=to, reason=reason, reporter=view)
    return _exit(outcome)


def resume(g: Globals, id: int | None) -> int:
    with _view(g, "resume") as view:
        outcome = deployments.resume(g.workspace, g.actor, id, reporter=view)
    return _exit(outcome)


def adopt(g: Globals, env: str, version: str, *, reason: str | None) -> int:
    import json

    outcome = deployments.adopt(g.workspace, g.actor, env, version, reason=reason)
    if g.json:
        print(json.dumps(outcome.to_json()))
    else:
        print(f"deployment {outcome.deployment_id}: {version} recorded as live in {env} "
              f"({outcome.detail})")
    return Exit.OK
