"""Printing a plan (the dry run) and a rollback preview."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta

from rich.console import Console
from rich.text import Text
from rich.tree import Tree

from releasegate.config.types import format_duration
from releasegate.service.types import Plan, PlannedStep, RollbackPreview


def _step_line(step: PlannedStep) -> Text:
    line = Text()
    line.append(step.id, style="bold")
    line.append(f"  uses {step.uses}", style="cyan")
    extras = []
    if step.needs:
        extras.append("needs " + ", ".join(step.needs))
    if step.timeout_s:
        extras.append(f"timeout {format_duration(timedelta(seconds=step.timeout_s))}")
    if step.retries:
        extras.append(f"retries {step.retries}")
    if step.on_failure != "stop":
        extras.append(f"on failure: {step.on_failure}")
    if step.checklist:
        n = len(step.checklist)
        extras.append(f"proves {n} checklist item{'s' if n > 1 else ''}")
    if extras:
        line.append("  (" + "; ".join(extras) + ")", style="dim")
    if step.skip_reason:
        line.append(f"  SKIPPED: {step.skip_reason}", style="yellow")
    return line


def print_plan(
    plan: Plan,
    *,
    as_json: bool,
    console: Console | None = None,
    policy: Mapping[str, object] | None = None,
    policy_text: str = "",
) -> None:
    """The plan as a tree, then what policy says about running it now (the dry run)."""
    if as_json:
        print(json.dumps({**plan.to_json(), "policy": policy}, indent=2, default=str))
        return
    console = console or Console()
    title = (
        f"plan: {plan.version} → {plan.environment} ({plan.kind})"
        f"   live now: {plan.release.previous_version or 'nothing'}"
    )
    tree = Tree(Text(title, style="bold"))
    for name, steps in plan.phases():
        if name == "post" and plan.verify:
            _verify(tree, plan)
        branch = tree.add(Text(f"{name}" + (" (in parallel)" if name == "gates" else " (in order)"), style="bold"))
        for step in steps:
            branch.add(_step_line(step))
        if not steps:
            branch.add(Text("nothing", style="dim"))
    rb = tree.add(Text("on failure: rollback procedure", style="bold"))
    for step in reversed(plan.deploy):
        if step.undo:
            rb.add(Text(f"{step.id}: {step.undo}"))
    for step in plan.rollback_steps:
        rb.add(_step_line(step))
    for note in plan.notes:
        tree.add(Text(note, style="yellow"))
    console.print(tree)
    if policy_text:
        console.print(policy_text, highlight=False, markup=False, soft_wrap=True)
    console.print("This is a dry run: nothing was run or recorded.", style="dim")


def _verify(tree: Tree, plan: Plan) -> None:
    branch = tree.add(Text("verify (metrics after the deploy; a failing stage rolls back)", style="bold"))
    for v in plan.verify:
        checks = ", ".join(f"{k} {c}" for k, c in v.check.items())
        branch.add(Text(f"{v.stage}: {v.for_s:g}s  {checks}"))


def print_rollback_preview(preview: RollbackPreview, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(preview.__dict__, indent=2, default=list))
        return
    console = Console()
    tree = Tree(
        Text(
            f"rollback plan for {preview.environment}: "
            f"{preview.live_version or 'nothing live'} → {preview.to_version or 'no earlier version'}",
            style="bold",
        )
    )
    if preview.live_deployment is not None:
        tree.add(f"undoes deployment {preview.live_deployment}, newest step first:")
    for action in preview.actions:
        tree.add(action)
    if preview.estimate_s is not None:
        tree.add(Text(f"estimated duration: {preview.estimate_s:.1f}s ({preview.estimate_basis})"))
    else:
        tree.add(Text(f"estimated duration: unknown ({preview.estimate_basis})", style="dim"))
    console.print(tree)
