"""Implementation of the deployment commands: they build an Engine, run it under a live
view, and map its outcome to the documented exit codes."""

from __future__ import annotations

import asyncio
import json
import sys

from rich.console import Console

from releasegate.cli.context import Globals
from releasegate.cli.exit_codes import Exit
from releasegate.cli.live import JsonLines, LiveTree
from releasegate.engine.api import Engine
from releasegate.engine.report import Reporter
from releasegate.engine.runner import Outcome
from releasegate.errors import UsageError

EXIT_FOR = {
    "succeeded": Exit.OK,
    "checked": Exit.OK,
    "failed": Exit.FAILED,
    "rollback_failed": Exit.FAILED,
    "rolled_back": Exit.ROLLED_BACK,
    "cancelled": Exit.INTERRUPTED,
    "check_failed": Exit.FAILED,
}


def _view(g: Globals, title: str) -> LiveTree | JsonLines:
    return JsonLines() if g.json else LiveTree(Console(), title=title)


def build_engine(g: Globals, reporter: Reporter | None = None) -> Engine:
    """An Engine over the config, store and drivers the global options name."""
    from releasegate.config.secrets import SecretResolver
    from releasegate.drivers.api import load_registry

    config = g.load_config()
    store = g.open_store()
    return Engine(
        config,
        store,
        load_registry(),
        workdir=g.config_path.resolve().parent,
        state_dir=g.state_dir,
        secrets=SecretResolver(g.config_path.resolve().parent),
        reporter=reporter,
        user=g.user,
    )


def _exit(outcome: Outcome) -> int:
    return int(EXIT_FOR.get(outcome.status, Exit.FAILED))


def plan(g: Globals, env: str, version: str | None, *, kind: str, flags: list[str]) -> int:
    from releasegate.cli.plan_view import print_plan, print_rollback_preview

    engine = build_engine(g)
    if kind == "rollback":
        preview = engine.rollback_preview(env, to=version)
        print_rollback_preview(preview, as_json=g.json)
        return Exit.OK
    if version is None:
        raise UsageError("plan needs a VERSION (or --kind rollback)")
    from datetime import UTC, datetime

    from releasegate.cli.policy_facts import policy_facts_from_store
    from releasegate.policy.api import check_deploy

    the_plan = engine.plan(env, version, kind, flags=flags)
    promote_from = engine.config.environments[env].promote_from
    facts = policy_facts_from_store(engine.store, env, version=version, promote_from=promote_from)
    decision = check_deploy(engine.config, env, version, kind, g.user, facts, datetime.now(UTC))
    print_plan(the_plan, as_json=g.json, policy=decision.to_json(), policy_text=decision.explain())
    return Exit.OK


def check(g: Globals, env: str, version: str, *, kind: str, flags: list[str]) -> int:
    from releasegate.cli.policy_gate import enforce_policy

    with _view(g, f"check {env} {version}") as view:
        engine = build_engine(g, view)
        the_plan = engine.plan(env, version, kind, flags=flags, signatures=False)
        enforce_policy(g, engine, the_plan, emergency=False, override_freeze=False)
        outcome = asyncio.run(engine.check(the_plan))
    return _exit(outcome)


def deploy(
    g: Globals,
    env: str,
    version: str,
    *,
    kind: str,
    emergency: bool,
    reason: str | None,
    override_freeze: bool,
    yes: bool,
    flags: list[str] | None = None,
    demo_override: str | None = None,
    bootstrap: bool = False,
) -> int:
    """``releasegate deploy``. ``demo_override``/``bootstrap`` are for ``releasegate demo``
    only (not on the command line): see :func:`~releasegate.cli.policy_gate.enforce_policy`."""
    from releasegate.cli.policy_gate import enforce_policy, open_obligations

    if emergency and not reason:
        raise UsageError("--emergency needs --reason TEXT (it is recorded)")
    if emergency and kind == "normal":
        kind = "hotfix"
    view = _view(g, f"deploy {env} {version} ({kind})")
    engine = build_engine(g, view)
    the_plan = engine.plan(env, version, kind, emergency=emergency, flags=flags or [])
    decision = enforce_policy(
        g,
        engine,
        the_plan,
        emergency=emergency,
        override_freeze=override_freeze,
        demo_override=demo_override,
        bootstrap=bootstrap,
    )
    if not yes and not g.json and sys.stdin.isatty() and sys.stdout.isatty():
        from rich.prompt import Confirm

        live = the_plan.release.previous_version or "nothing"
        if not Confirm.ask(f"Deploy {version} to {env} (live now: {live})?", default=False):
            Console(stderr=True).print("not deployed")
            return Exit.INTERRUPTED
    with view:
        outcome = asyncio.run(
            engine.deploy(the_plan, reason=reason, emergency=emergency, policy=decision)
        )
        if outcome.status == "succeeded" and (emergency or kind == "hotfix"):
            open_obligations(engine, outcome.deployment_id)
    return _exit(outcome)


def rollback(g: Globals, env: str, *, to: str | None, reason: str | None) -> int:
    with _view(g, f"rollback {env}") as view:
        engine = build_engine(g, view)
        outcome = asyncio.run(engine.rollback(env, to=to, reason=reason))
    return _exit(outcome)


def resume(g: Globals, id: int | None) -> int:
    with _view(g, "resume") as view:
        engine = build_engine(g, view)
        outcome = asyncio.run(engine.resume(id))
    return _exit(outcome)


def cancel(g: Globals, id: int) -> int:
    from releasegate.cli.records_view import cancel_deployment

    return cancel_deployment(g, id)


def status(g: Globals, env: str | None) -> int:
    from releasegate.cli.records_view import print_status

    return print_status(g, env)


def history(g: Globals, env: str | None, *, limit: int) -> int:
    from releasegate.cli.records_view import print_history

    return print_history(g, env, limit=limit)


def show(g: Globals, id: int, *, fmt: str) -> int:
    from releasegate.cli.show_view import show_deployment

    return show_deployment(g, id, fmt=fmt)


def confirm(g: Globals, id: int, item: str, *, note: str | None) -> int:
    from releasegate.cli.records_view import confirm_item

    return confirm_item(g, id, item, note=note)


def _dump(data: object) -> None:
    print(json.dumps(data, indent=2, default=str))
