"""The ``releasegate`` command: global options, command registration, error → exit code.

Commands live in one module per group and import their heavy dependencies inside the
command body, so that ``releasegate --help`` stays fast.
"""

from __future__ import annotations

import atexit
import copy
import gc
import os
import sys
from typing import Annotated

import typer

from releasegate.cli import (
    audit,
    checklist,
    configure,
    deploy,
    metrics,
    obligations,
    policy,
    serve,
    target,
    token,
    verify,
    worker,
)
from releasegate.cli.coercion import install as install_fast_coercion
from releasegate.cli.context import Globals
from releasegate.cli.entry import GC_THRESHOLD
from releasegate.cli.errors import handle

install_fast_coercion()  # plain values without building pydantic adapters (cli/coercion.py)

app = typer.Typer(
    name="releasegate",
    help="Make your deployment checklist executable: gates, approvals, windows, "
    "evidence, verification and rollback, recorded.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def main(
    ctx: typer.Context,
    config: Annotated[
        str | None,
        typer.Option("-c", "--config", help="The config file (default ./releasegate.yaml)."),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Store URL (else RELEASEGATE_DATABASE_URL, else .releasegate/state.db "
            "beside the config).",
        ),
    ] = None,
    as_user: Annotated[
        str | None,
        typer.Option("--as", help="Act as this user (else RELEASEGATE_USER, else the OS user)."),
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    ctx.obj = Globals.from_options(
        config=config, db=db, as_user=as_user, json=json, command=ctx.invoked_subcommand
    )


configure.register(app)
checklist.register(app)
deploy.register(app)
policy.register(app)
audit.register(app)
obligations.register(app)
target.register(app)
metrics.register(app)
token.register(app)
serve.register(app)
verify.register(app)
worker.register(app)



GLOBAL_WITH_VALUE = ("-c", "--config", "--db", "--as")
GLOBAL_FLAGS = ("--json",)


def hoist_globals(argv: list[str]) -> list[str]:
    """Move global options written after the command to the front, so that
    ``releasegate init -c x.yaml`` means ``releasegate -c x.yaml init`` (after ``--`` nothing
    moves)."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest += argv[i:]
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_WITH_VALUE and "=" in arg:
            front.append(arg)
        elif name in GLOBAL_WITH_VALUE and i + 1 < len(argv):
            front += [arg, argv[i + 1]]
            i += 1
        elif arg in GLOBAL_FLAGS:
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


def run(argv: list[str] | None = None) -> None:
    """Run a command and exit with its documented code (the console script's
    ``releasegate.cli.entry.run`` calls it, having tuned the collector before importing it).

    It also tunes the garbage collector for the rest of the process (see ``_tune_gc``).
    """
    _tune_gc()
    args = hoist_globals(list(sys.argv[1:] if argv is None else argv))
    if argv is None and not sys.stdout.isatty():
        # logs and pipes: never wrap at 80 columns (a wrapped command cannot be copied)
        os.environ.setdefault("COLUMNS", "400")
    json_errors = "--json" in args[: args.index("--")] if "--" in args else "--json" in args
    runs = app_for(args)
    sys.exit(handle(
        lambda: runs(args=args, prog_name="releasegate", standalone_mode=False),
        json_errors=json_errors,
    ))


def app_for(args: list[str]) -> typer.Typer:
    """``app`` with only the command ``args`` names, when they name one of its commands.

    Typer turns every registered command into a Click command (reading each function's
    signature and annotations) before it runs one: a tenth of what ``history`` costs beyond
    its imports. The command run, its help, its errors and its exit codes are the same;
    anything else (``--help``, no command, a mistyped one) gets the whole ``app``.
    """
    name = _command_name(args)
    if name is None:
        return app
    commands = [
        info for info in app.registered_commands
        if (info.name or typer.main.get_command_name(getattr(info.callback, "__name__", ""))) == name
    ]
    groups = [info for info in app.registered_groups if info.name == name]
    if len(commands) + len(groups) != 1 or any(not info.name for info in app.registered_groups):
        return app
    only = copy.copy(app)
    only.registered_commands = commands
    only.registered_groups = groups
    return only


def _command_name(args: list[str]) -> str | None:
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in GLOBAL_WITH_VALUE:
            i += 2
        elif arg in GLOBAL_FLAGS or arg.split("=", 1)[0] in GLOBAL_WITH_VALUE:
            i += 1
        else:
            return None if arg.startswith("-") else arg
    return None


def _tune_gc() -> None:
    # A command starts by importing ~150,000 objects that live until exit (SQLAlchemy,
    # pydantic models, the tables), then mostly makes short-lived ones that reference
    # counting frees. With the default threshold the collector walks that long-lived graph
    # over and over while it is built, and once more at exit: a sixth of a whole
    # `releasegate deploy`. With this threshold a deploy's start-up triggers no collection;
    # cycles are still collected, less often. At exit the frozen objects are not walked:
    # the OS frees them (stores close their connections through their own finalizer).
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, middle, old)
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
