"""The application layer: every use case written once, under the CLI, the web API and
the workers alike (see DESIGN.md, "Application layer").

Each use case takes a :class:`~releasegate.service.workspace.Workspace` (the config, the
store and the state directory it names), an :class:`~releasegate.identity.Actor` and plain
arguments; it checks who may call it, decides policy where policy applies, records its own
events, and returns plain data (dataclasses with ``to_json``). Errors are the tree in
``releasegate.errors``. Modules, one per group of use cases:

* ``deployments`` — plan, check, deploy, rollback, resume, cancel, adopt
* ``signoffs``    — approve, confirm
* ``calendar``    — freezes, incidents, campaigns, obligations
* ``explain``     — policy explain
* ``records``     — status, history, show, audit verify and anchor

Nothing here imports Typer, Rich or FastAPI.
"""
